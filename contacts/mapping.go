package contacts

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"sendbox/accounts"
	"sendbox/inbox"
	"sendbox/store"
)

// Targets of a column in a mapping; attributes are "attributes.<key>".
const (
	Ignore      = ""
	Phone       = "phone"
	Name        = "name"
	Email       = "email"
	Tags        = "tags"
	Consent     = "consent"
	ConsentDate = "consent_date"
	AttrPrefix  = "attributes."
)

// PreviewRows is how many data rows the mapping preview shows.
const PreviewRows = 20

// Preview is what the mapping screen shows of a file: its separator, the
// header, the first rows, and a suggested target for each column.
type Preview struct {
	Delimiter string     `json:"delimiter"`
	BOM       bool       `json:"bom"`
	Columns   []string   `json:"columns"`
	Suggested []string   `json:"suggested_mapping"`
	Rows      [][]string `json:"rows"`
}

// ReadPreview reads the header and the first PreviewRows rows. A file that
// is not CSV, or whose first rows cannot be read, is refused.
func ReadPreview(r io.Reader) (*Preview, error) {
	rd, err := NewReader(r)
	if err != nil {
		return nil, err
	}
	head, _, err := rd.Read()
	if errors.Is(err, io.EOF) {
		return nil, &FileError{Msg: "the file is empty"}
	}
	if err != nil {
		return nil, err
	}
	p := &Preview{Delimiter: string(rd.Comma), BOM: rd.BOM}
	for _, h := range head {
		p.Columns = append(p.Columns, strings.TrimSpace(h))
	}
	p.Suggested = Suggest(p.Columns)
	for len(p.Rows) < PreviewRows {
		rec, _, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		row := make([]string, len(p.Columns))
		copy(row, rec)
		p.Rows = append(p.Rows, row)
	}
	return p, nil
}

// headerWords maps header words, in the five languages, to targets.
var headerWords = map[string]string{
	"phone": Phone, "phonenumber": Phone, "mobile": Phone, "mobilephone": Phone, "cell": Phone, "cellphone": Phone,
	"number": Phone, "tel": Phone, "telephone": Phone, "whatsapp": Phone, "waid": Phone, "msisdn": Phone,
	"telefono": Phone, "cellulare": Phone, "numero": Phone, "portable": Phone,
	"handy": Phone, "telefon": Phone, "movil": Phone, "celular": Phone, "telefonnummer": Phone,
	"name": Name, "fullname": Name, "nome": Name, "nom": Name, "nombre": Name, "customer": Name, "cliente": Name,
	"email": Email, "mail": Email, "emailaddress": Email, "correo": Email, "courriel": Email,
	"tags": Tags, "tag": Tags, "labels": Tags, "etichette": Tags, "etiquettes": Tags, "etiquetas": Tags,
	"consent": Consent, "optin": Consent, "marketing": Consent, "marketingconsent": Consent, "consenso": Consent,
	"consentement": Consent, "consentimiento": Consent, "einwilligung": Consent, "optedin": Consent,
	"consentdate": ConsentDate, "optindate": ConsentDate, "consentat": ConsentDate, "dataconsenso": ConsentDate,
}

// exportOnly are the export's columns an import does not read back.
var exportOnly = map[string]bool{"consentsource": true}

// Suggest proposes a target for each header: a known word, else an
// attribute named after the header; one column per target.
func Suggest(headers []string) []string {
	out := make([]string, len(headers))
	used := map[string]bool{}
	for i, h := range headers {
		key := strings.Map(func(r rune) rune {
			switch {
			case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
				return r
			case r >= 'A' && r <= 'Z':
				return r + 'a' - 'A'
			}
			switch r {
			case 'é', 'è', 'É':
				return 'e'
			case 'ó':
				return 'o'
			case 'í':
				return 'i'
			}
			return -1
		}, h)
		t := headerWords[key]
		if k, ok := strings.CutPrefix(strings.ToLower(strings.TrimSpace(h)), AttrPrefix); ok && attrKeyRE.MatchString(k) {
			t = AttrPrefix + k // a column of sendbox's own export
		} else if t == "" && !exportOnly[key] {
			if k := AttrKey(h); k != "" {
				t = AttrPrefix + k
			}
		}
		if t != "" && !used[t] {
			out[i], used[t] = t, true
		}
	}
	return out
}

// unaccent writes the accented letters of the five languages plainly, for keys.
var unaccent = strings.NewReplacer("à", "a", "á", "a", "â", "a", "ä", "ae", "ç", "c", "è", "e", "é", "e", "ê", "e",
	"ë", "e", "ì", "i", "í", "i", "î", "i", "ï", "i", "ñ", "n", "ò", "o", "ó", "o", "ô", "o", "ö", "oe", "ù", "u",
	"ú", "u", "û", "u", "ü", "ue", "ß", "ss")

var attrKeyRE = regexp.MustCompile(`^[a-z0-9_]{1,60}$`)

// AttrKey turns a header into an attribute key: lower case, words joined
// by "_", accents dropped; "" when nothing is left.
func AttrKey(h string) string {
	var b strings.Builder
	for _, w := range strings.FieldsFunc(unaccent.Replace(strings.ToLower(h)), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	}) {
		if b.Len() > 0 {
			b.WriteByte('_')
		}
		b.WriteString(w)
	}
	if s := b.String(); attrKeyRE.MatchString(s) {
		return s
	}
	return ""
}

// CheckMapping checks a mapping for a file of n columns: one target per
// column, exactly one phone column, no target twice, attribute keys
// written as lower-case words.
func CheckMapping(m []string, n int) error {
	if len(m) != n {
		return fmt.Errorf("the mapping has %d entries but the file has %d columns: give one per column (\"\" to ignore it)", len(m), n)
	}
	seen := map[string]int{}
	for i, t := range m {
		switch {
		case t == Ignore:
			continue
		case t == Phone, t == Name, t == Email, t == Tags, t == Consent, t == ConsentDate:
		case strings.HasPrefix(t, AttrPrefix) && attrKeyRE.MatchString(strings.TrimPrefix(t, AttrPrefix)):
		default:
			return fmt.Errorf("column %d: unknown target %q (phone, name, email, tags, consent, consent_date, attributes.<key> with a-z, 0-9 and _)", i+1, t)
		}
		if j, ok := seen[t]; ok {
			return fmt.Errorf("columns %d and %d are both mapped to %s", j+1, i+1, t)
		}
		seen[t] = i
	}
	attrs := 0
	for t := range seen {
		if strings.HasPrefix(t, AttrPrefix) {
			attrs++
		}
	}
	if attrs > inbox.MaxAttributes {
		return fmt.Errorf("%d columns are mapped to attributes: a contact has at most %d", attrs, inbox.MaxAttributes)
	}
	if _, ok := seen[Phone]; !ok {
		return errors.New("no column is mapped to phone: map the column with the phone numbers")
	}
	if _, ok := seen[ConsentDate]; ok {
		if _, ok := seen[Consent]; !ok {
			return errors.New("a column is mapped to consent_date but none to consent")
		}
	}
	return nil
}

// row is one data row read against a mapping.
type row struct {
	line      int
	waID      string
	name      string
	email     string
	tags      []string
	attrs     map[string]string
	consent   string
	consentAt time.Time
	cells     []string // the record as read, kept for a row turned down
}

// maxCell bounds any cell read; names, tags and attributes follow the
// limits of a contact edited by hand (package inbox).
const maxCell = 1000

// parseRow reads one record; a row it cannot take gets the reason,
// naming the column. known is the row's number when an earlier pass read
// it ("-": the row was rejected), "" to read it here.
func parseRow(rec []string, line int, m []string, headers []string, region, known string) (row, string) {
	r := row{line: line}
	if known == "-" {
		return r, "rejected"
	}
	col := func(i int) string {
		if i < len(headers) && headers[i] != "" {
			return fmt.Sprintf("column %d (%s)", i+1, headers[i])
		}
		return fmt.Sprintf("column %d", i+1)
	}
	for i, target := range m {
		if target == Ignore {
			continue
		}
		v := ""
		if i < len(rec) {
			v = unguard(strings.TrimSpace(rec[i]))
		}
		if utf8.RuneCountInString(v) > maxCell {
			return r, fmt.Sprintf("%s: longer than %d characters", col(i), maxCell)
		}
		switch {
		case target == Phone && known != "":
			r.waID = known
		case target == Phone:
			n, err := Normalize(v, region)
			if err != nil {
				return r, fmt.Sprintf("%s: %v", col(i), err)
			}
			r.waID = n
		case target == Name:
			if utf8.RuneCountInString(v) > inbox.MaxContactName {
				return r, fmt.Sprintf("%s: the name is longer than %d characters", col(i), inbox.MaxContactName)
			}
			r.name = v
		case target == Email:
			if v != "" {
				e, err := accounts.NormalizeEmail(v)
				if err != nil {
					return r, fmt.Sprintf("%s: %q is not an e-mail address", col(i), v)
				}
				v = e
			}
			r.email = v
		case target == Tags:
			for _, t := range strings.FieldsFunc(v, func(c rune) bool { return c == ',' || c == ';' || c == '|' }) {
				t = strings.TrimSpace(t)
				if t == "" || containsFold(r.tags, t) {
					continue
				}
				if utf8.RuneCountInString(t) > inbox.MaxTag {
					return r, fmt.Sprintf("%s: the tag %q is longer than %d characters", col(i), t, inbox.MaxTag)
				}
				r.tags = append(r.tags, t)
			}
			if len(r.tags) > inbox.MaxTags {
				return r, fmt.Sprintf("%s: more than %d tags", col(i), inbox.MaxTags)
			}
		case target == Consent:
			c, ok := consentValue(v)
			if !ok {
				return r, fmt.Sprintf("%s: %q is not a consent answer (opted_in, opted_out, yes, no, 1, 0, or empty)", col(i), v)
			}
			r.consent = c
		case target == ConsentDate:
			if v == "" {
				continue
			}
			t, ok := parseDate(v)
			if !ok {
				return r, fmt.Sprintf("%s: %q is not a date (write 2026-03-31 or 2026-03-31T14:05:00Z)", col(i), v)
			}
			r.consentAt = t
		default:
			if v == "" {
				continue
			}
			if utf8.RuneCountInString(v) > inbox.MaxAttrValue {
				return r, fmt.Sprintf("%s: longer than %d characters", col(i), inbox.MaxAttrValue)
			}
			if r.attrs == nil {
				r.attrs = map[string]string{}
			}
			r.attrs[strings.TrimPrefix(target, AttrPrefix)] = v
		}
	}
	if !r.consentAt.IsZero() && r.consent == "" {
		r.consentAt = time.Time{} // a date without an answer says nothing
	}
	return r, ""
}

// unguard reads back a cell Guard made text ("'=…" is "=…").
func unguard(v string) string {
	if len(v) > 1 && v[0] == '\'' && strings.ContainsRune("=+-@", rune(v[1])) {
		return v[1:]
	}
	return v
}

func consentValue(v string) (string, bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "unknown":
		return "", true
	case "opted_in", "opt-in", "optin", "opted in", "yes", "y", "1", "true", "si", "sì", "oui", "ja", "x":
		return store.ConsentOptedIn, true
	case "opted_out", "opt-out", "optout", "opted out", "no", "n", "0", "false", "non", "nein":
		return store.ConsentOptedOut, true
	}
	return "", false
}

func parseDate(v string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339, "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

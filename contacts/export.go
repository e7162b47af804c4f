package contacts

import (
	"context"
	"encoding/csv"
	"io"
	"regexp"
	"strings"
	"time"

	"sendbox/store"
)

// Export writes every contact with a phone number as CSV that Excel opens
// cleanly: UTF-8 with a byte order mark, CRLF line ends, one column per
// attribute key in use, and cells that would start a formula made text. It
// streams: memory stays flat however many contacts there are.
func Export(ctx context.Context, st *store.Store, w io.Writer) error {
	keys, err := st.AttributeKeys(ctx)
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	head := []string{"phone", "name", "email", "tags", "consent", "consent_source", "consent_at"}
	for _, k := range keys {
		head = append(head, AttrPrefix+k)
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	rec := make([]string, len(head))
	n := 0
	err = st.ExportContacts(ctx, func(c store.ExportContact) error {
		rec = append(rec[:0], "+"+c.WaID, c.Name, c.Email, strings.Join(c.Tags, ", "), c.Consent, c.ConsentSource, "")
		if !c.ConsentAt.IsZero() {
			rec[6] = c.ConsentAt.Format(time.RFC3339)
		}
		for _, k := range keys {
			rec = append(rec, c.Attributes[k])
		}
		if err := cw.Write(guardAll(rec)); err != nil {
			return err
		}
		if n++; n%1000 == 0 {
			cw.Flush()
			return cw.Error()
		}
		return ctx.Err()
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

var plainNumber = regexp.MustCompile(`^\+[0-9]{6,15}$`)

// Guard makes a cell that a spreadsheet would run as a formula (it starts
// with =, +, -, @, a tab or a carriage return) plain text with a leading
// apostrophe. An international number ("+393471110001") is left as it is:
// it cannot carry a formula, and the phone column must stay exact.
func Guard(s string) string {
	if s == "" || plainNumber.MatchString(s) {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

func guardAll(rec []string) []string {
	for i, s := range rec {
		rec[i] = Guard(s)
	}
	return rec
}

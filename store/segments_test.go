package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"sendbox/language"
)

// fxContact is a contact of the segment fixture, as the brute-force
// evaluator sees it.
type fxContact struct {
	id          int64
	waID        string
	attrs       map[string]string
	tags        []string
	consent     string
	lastInbound int64 // unix ms, 0: never wrote
	langs       []string
	labels      []string
	events      []fxEvent
	runs        []fxRun
	recipients  []fxRecipient
}

type fxEvent struct {
	name string
	at   int64
}

type fxRun struct {
	flowID         int64
	state, outcome string
}

type fxRecipient struct {
	campaignID int64
	at         map[string]int64 // column → time
}

// Vocabularies the fixture draws from, and random rules too.
var (
	fxNumbers  = []string{"39347", "33612", "4915", "1212", "1416", "1787", "447700", "3490", "77012", "7495"}
	fxAttrKeys = []string{"city", "plan", "spent", "birthday", "last_order"}
	fxCities   = []string{"Milano", "milano", "Roma", "Paris", "Lyon", "Berlin", ""}
	fxPlans    = []string{"gold", "silver", "gold-plus", "100%", "a_b"}
	fxTags     = []string{"vip", "VIP", "lead", "buyer", "o'brien"}
	fxLabels   = []string{"urgent", "Sale", "follow-up"}
	fxEvents   = []string{"order.created", "booking.made", "Order.created"}
	fxOutcomes = []string{"completed", "no_answer", "handed_off"}
	fxCampCols = []string{"sent_at", "delivered_at", "read_at", "replied_at", "clicked_at", "converted_at"}
)

// campaignRecipientsStandIn has the columns of campaigns' recipients that
// segments read; once campaigns are installed their table is used.
const campaignRecipientsStandIn = `CREATE TABLE IF NOT EXISTS campaign_recipients (
	campaign_id INTEGER NOT NULL, contact_id INTEGER NOT NULL, state TEXT NOT NULL DEFAULT '',
	sent_at INTEGER, delivered_at INTEGER, read_at INTEGER, replied_at INTEGER, clicked_at INTEGER, converted_at INTEGER)`

// daysAgo is a time k days and a half before now: never within seconds of
// a cutoff the test computes a moment later.
func daysAgo(now time.Time, k int) int64 {
	return now.Add(-time.Duration(k)*24*time.Hour - 12*time.Hour).UnixMilli()
}

// seedSegments writes n random contacts with everything a rule reads, in
// one transaction, and returns them. withCampaigns adds a stand-in of the
// campaigns' recipients table (campaigns come later).
func seedSegments(t testing.TB, s *Store, n int, rng *rand.Rand, withCampaigns bool) []fxContact {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	pick := func(list []string) string { return list[rng.IntN(len(list))] }
	out := make([]fxContact, 0, n)
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if withCampaigns {
			if _, err := tx.Exec(campaignRecipientsStandIn); err != nil {
				return err
			}
			// With campaigns installed, recipients need their campaigns.
			if s.hasTable("campaigns") {
				for cp := 1; cp <= 2; cp++ {
					if _, err := tx.Exec(`INSERT OR IGNORE INTO campaigns (id, name, created_at, updated_at) VALUES (?, ?, 0, 0)`, cp, fmt.Sprintf("campaign %d", cp)); err != nil {
						return err
					}
				}
			}
		}
		for f := int64(1); f <= 3; f++ {
			if _, err := tx.Exec(`INSERT OR IGNORE INTO flows (id, name, created_at, updated_at) VALUES (?, ?, 0, 0)`, f, fmt.Sprintf("flow %d", f)); err != nil {
				return err
			}
		}
		for i, l := range fxLabels {
			if _, err := tx.Exec(`INSERT OR IGNORE INTO labels (id, name, created_at) VALUES (?, ?, 0)`, i+1, l); err != nil {
				return err
			}
		}
		var maxID int64
		tx.QueryRow(`SELECT COALESCE(MAX(id), 0) FROM contacts`).Scan(&maxID)
		for i := range n {
			c := fxContact{id: maxID + int64(i) + 1, attrs: map[string]string{}, consent: pick(segmentConsents)}
			if rng.IntN(20) > 0 {
				c.waID = pick(fxNumbers) + fmt.Sprintf("%07d", int(c.id))
			}
			if rng.IntN(3) > 0 {
				c.attrs["city"] = pick(fxCities)
			}
			if rng.IntN(2) == 0 {
				c.attrs["plan"] = pick(fxPlans)
			}
			if rng.IntN(2) == 0 {
				c.attrs["spent"] = pick([]string{"12", "-3.5", "250", "99.99", "abc", "1.2.3", "+7", ".5", "0"})
			}
			if rng.IntN(3) == 0 {
				c.attrs["last_order"] = time.UnixMilli(daysAgo(now, rng.IntN(90))).UTC().Format(time.DateOnly)
			}
			if rng.IntN(4) == 0 {
				c.attrs["birthday"] = pick([]string{"1990-05-01", "1985-12-31T10:00:00Z", "not a date", "2001-01-15"})
			}
			if rng.IntN(4) == 0 {
				c.attrs[pick([]string{"language", "lingua"})] = pick([]string{"it", "IT", "it-IT", "fr_FR", "Italiano", "english",
					"de", "xx", "itx", "it.", "Français", "inglese", ""})
			}
			for _, tg := range fxTags {
				if rng.IntN(4) == 0 && !slices.ContainsFunc(c.tags, func(x string) bool { return strings.EqualFold(x, tg) }) {
					c.tags = append(c.tags, tg)
				}
			}
			if rng.IntN(3) > 0 {
				c.lastInbound = daysAgo(now, rng.IntN(120))
			}
			for range rng.IntN(3) {
				c.langs = append(c.langs, pick([]string{"", "it", "fr", "en", "de"}))
			}
			for range rng.IntN(4) {
				c.events = append(c.events, fxEvent{pick(fxEvents), daysAgo(now, rng.IntN(60))})
			}
			for f := int64(1); f <= 3; f++ {
				if rng.IntN(3) == 0 {
					r := fxRun{flowID: f, state: "ended", outcome: pick(fxOutcomes)}
					if rng.IntN(3) == 0 {
						r = fxRun{flowID: f, state: "active"}
					}
					c.runs = append(c.runs, r)
				}
			}
			if withCampaigns {
				for cp := int64(1); cp <= 2; cp++ {
					if rng.IntN(2) == 0 {
						rc := fxRecipient{campaignID: cp, at: map[string]int64{}}
						for _, col := range fxCampCols {
							if rng.IntN(2) == 0 {
								rc.at[col] = daysAgo(now, rng.IntN(40))
							}
						}
						c.recipients = append(c.recipients, rc)
					}
				}
			}
			if err := writeFixture(tx, &c); err != nil {
				return err
			}
			out = append(out, c)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func writeFixture(tx *sql.Tx, c *fxContact) error {
	attrs, _ := json.Marshal(c.attrs)
	var li any
	if c.lastInbound != 0 {
		li = c.lastInbound
	}
	if _, err := tx.Exec(`INSERT INTO contacts (id, wa_id, name, attributes, consent, last_inbound_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, 0, 0)`, c.id, nullStr(c.waID), "c"+strconv.FormatInt(c.id, 10), attrs, c.consent, li); err != nil {
		return err
	}
	for _, tg := range c.tags {
		if _, err := tx.Exec(`INSERT INTO contact_tags (contact_id, tag) VALUES (?, ?)`, c.id, tg); err != nil {
			return err
		}
	}
	for i, l := range c.langs {
		r, err := tx.Exec(`INSERT INTO conversations (contact_id, phone_number_id, last_message_at, created_at, updated_at, language_detected, language_chosen)
			VALUES (?, ?, 0, 0, 0, ?, ?)`, c.id, fmt.Sprintf("pn%d", i), "", "")
		if err != nil {
			return err
		}
		conv, _ := r.LastInsertId()
		// The language is chosen by an agent in one of two conversations,
		// detected in the other (the chosen one wins over a detected "en").
		if i%2 == 0 {
			_, err = tx.Exec(`UPDATE conversations SET language_detected = ? WHERE id = ?`, l, conv)
		} else {
			_, err = tx.Exec(`UPDATE conversations SET language_chosen = ?, language_detected = 'en' WHERE id = ?`, l, conv)
			if l == "" {
				c.langs[i] = "en"
			}
		}
		if err != nil {
			return err
		}
		if i == 0 && len(c.events)%2 == 1 {
			lab := fxLabels[int(c.id)%len(fxLabels)]
			c.labels = append(c.labels, lab)
			if _, err := tx.Exec(`INSERT INTO conversation_labels (conversation_id, label_id) SELECT ?, id FROM labels WHERE name = ?`, conv, lab); err != nil {
				return err
			}
		}
	}
	for i, e := range c.events {
		if _, err := tx.Exec(`INSERT INTO contact_events (contact_id, name, key, data, at) VALUES (?, ?, ?, '{}', ?)`,
			c.id, e.name, fmt.Sprintf("%s:%d:%d", e.name, c.id, i), e.at); err != nil {
			return err
		}
	}
	for _, r := range c.runs {
		if _, err := tx.Exec(`INSERT INTO flow_runs (flow_id, version, contact_id, state, outcome, start_ref, started_at, updated_at)
			VALUES (?, 1, ?, ?, ?, ?, 0, 0)`, r.flowID, c.id, r.state, r.outcome, fmt.Sprintf("t:%d:%d", c.id, r.flowID)); err != nil {
			return err
		}
	}
	for _, rc := range c.recipients {
		args := []any{rc.campaignID, c.id}
		for _, col := range fxCampCols {
			if v, ok := rc.at[col]; ok {
				args = append(args, v)
			} else {
				args = append(args, nil)
			}
		}
		if _, err := tx.Exec(`INSERT INTO campaign_recipients (campaign_id, contact_id, sent_at, delivered_at, read_at, replied_at, clicked_at, converted_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, args...); err != nil {
			return err
		}
	}
	return nil
}

// fxNum is the value as a number, the way contact_attributes.num reads it:
// an optional sign, digits with at most one dot.
func fxNum(v string) (float64, bool) {
	body := strings.TrimLeft(v, "+-")
	if len(v)-len(body) > 1 || strings.Count(body, ".") > 1 || !strings.ContainsAny(body, "0123456789") ||
		strings.Trim(body, "0123456789.") != "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(v, 64)
	return f, err == nil
}

func fxDay(v string) (string, bool) {
	if len(v) < 10 {
		return "", false
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC().Format(time.DateOnly), true
	}
	if t, err := time.Parse(time.DateOnly, v[:10]); err == nil && len(v) == 10 {
		return t.Format(time.DateOnly), true
	}
	return "", false
}

func fold(list []string, v string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, v) })
}

// evalRule is the brute-force meaning of a rule for one contact.
func evalRule(r *SegmentRule, c *fxContact, now time.Time) bool {
	switch r.Group {
	case GroupAnd, "":
		if r.Group == "" && r.Field != "" {
			return evalCondition(r, c, now)
		}
		for i := range r.Rules {
			if !evalRule(&r.Rules[i], c, now) {
				return false
			}
		}
		return true
	case GroupOr:
		for i := range r.Rules {
			if evalRule(&r.Rules[i], c, now) {
				return true
			}
		}
		return false
	case GroupNot:
		return !evalRule(&SegmentRule{Group: GroupAnd, Rules: r.Rules}, c, now)
	}
	panic(r.Group)
}

func evalCondition(r *SegmentRule, c *fxContact, now time.Time) bool {
	// Days are calendar days (the store's zone is UTC here): since
	// midnight r.Days days before today.
	y, m, d := now.UTC().Date()
	cutoff := time.Date(y, m, d-r.Days, 0, 0, 0, 0, time.UTC).UnixMilli()
	switch r.Field {
	case FieldAttribute:
		v, ok := c.attrs[r.Key]
		switch r.Op {
		case "equals":
			return ok && strings.EqualFold(v, r.Value)
		case "not_equals":
			return !(ok && strings.EqualFold(v, r.Value))
		case "contains":
			return ok && strings.Contains(strings.ToLower(v), strings.ToLower(r.Value))
		case "exists":
			return ok && v != ""
		case "lt", "gt":
			n, isNum := fxNum(v)
			x, _ := strconv.ParseFloat(r.Value, 64)
			return ok && isNum && (r.Op == "lt" && n < x || r.Op == "gt" && n > x)
		case "before", "after", "within_days":
			d, isDay := fxDay(v)
			if !ok || !isDay {
				return false
			}
			switch r.Op {
			case "before":
				return d < r.Value
			case "after":
				return d > r.Value
			}
			return d >= now.AddDate(0, 0, -r.Days).UTC().Format(time.DateOnly) && d <= now.UTC().Format(time.DateOnly)
		}
	case FieldTag:
		return fold(c.tags, r.Value) == (r.Op == "has")
	case FieldLabel:
		return fold(c.labels, r.Value) == (r.Op == "has")
	case FieldConsent:
		return (c.consent == r.Value) == (r.Op == "is")
	case FieldCountry:
		return (c.waID != "" && language.Country(c.waID) == r.Value) == (r.Op == "is")
	case FieldLanguage:
		own := false
		for _, k := range LanguageAttributes {
			v := strings.ToLower(c.attrs[k])
			own = own || v == r.Value || slices.Contains(languageNames[r.Value], v) ||
				strings.HasPrefix(v, r.Value+"-") || strings.HasPrefix(v, r.Value+"_")
		}
		return (own || slices.Contains(c.langs, r.Value)) == (r.Op == "is")
	case FieldLastInbound:
		return (c.lastInbound != 0 && c.lastInbound >= cutoff) == (r.Op == "within_days")
	case FieldEvent:
		n := 0
		for _, e := range c.events {
			if e.name == r.Key && (r.Days == 0 || e.at >= cutoff) {
				n++
			}
		}
		return n >= max(r.Count, 1)
	case FieldFlow:
		for _, run := range c.runs {
			if run.flowID == r.FlowID && (r.Op == "active" && run.state == "active" ||
				r.Op == "ended_with" && run.state == "ended" && run.outcome == r.Value) {
				return true
			}
		}
		return false
	case FieldCampaign:
		col := campaignColumns[r.Op]
		for _, rc := range c.recipients {
			at, ok := rc.at[col]
			if ok && (r.CampaignID == 0 || rc.campaignID == r.CampaignID) && (r.Days == 0 || at >= cutoff) {
				return true
			}
		}
		return false
	}
	panic(r.Field)
}

// randomCondition draws a valid condition over the fixture's vocabulary.
func randomCondition(rng *rand.Rand, campaigns bool) SegmentRule {
	pick := func(list []string) string { return list[rng.IntN(len(list))] }
	fields := []string{FieldAttribute, FieldAttribute, FieldTag, FieldConsent, FieldCountry, FieldLanguage, FieldLastInbound, FieldEvent, FieldFlow, FieldLabel}
	if campaigns {
		fields = append(fields, FieldCampaign)
	}
	f := pick(fields)
	r := SegmentRule{Field: f, Op: pick(SegmentOps(f))}
	switch f {
	case FieldAttribute:
		r.Key = pick(fxAttrKeys)
		switch r.Op {
		case "equals", "not_equals":
			r.Value = pick(append(fxCities[:len(fxCities)-1], fxPlans...))
		case "contains":
			r.Value = pick([]string{"il", "MIL", "%", "_", "gold", "-"})
		case "lt", "gt":
			r.Value = pick([]string{"0", "12", "100", "-1", "99.99"})
		case "before", "after":
			r.Value = pick([]string{"1990-01-01", "1995-06-15", time.Now().AddDate(0, 0, -20).Format(time.DateOnly)})
		case "within_days":
			r.Days = 1 + rng.IntN(60)
		}
	case FieldTag:
		r.Value = pick(fxTags)
	case FieldLabel:
		r.Value = pick(append(fxLabels, "SALE"))
	case FieldConsent:
		r.Value = pick(segmentConsents)
	case FieldCountry:
		r.Value = pick([]string{"IT", "FR", "DE", "US", "CA", "PR", "GB", "ES", "KZ", "RU"})
	case FieldLanguage:
		r.Value = pick(language.Langs)
	case FieldLastInbound:
		r.Days = 1 + rng.IntN(100)
	case FieldEvent:
		r.Key = pick(fxEvents)
		r.Days = rng.IntN(40)
		r.Count = rng.IntN(3)
	case FieldFlow:
		r.FlowID = 1 + rng.Int64N(3)
		if r.Op == "ended_with" {
			r.Value = pick(fxOutcomes)
		}
	case FieldCampaign:
		r.CampaignID = rng.Int64N(3)
		r.Days = rng.IntN(30)
	}
	return r
}

func randomRule(rng *rand.Rand, depth int, campaigns bool) SegmentRule {
	if depth == 0 || rng.IntN(3) == 0 {
		return randomCondition(rng, campaigns)
	}
	g := SegmentRule{Group: []string{GroupAnd, GroupOr, GroupNot}[rng.IntN(3)]}
	for range 1 + rng.IntN(3) {
		g.Rules = append(g.Rules, randomRule(rng, depth-1, campaigns))
	}
	return g
}

// TestSegmentCountMatchesBruteForce: for random rules over random contacts,
// the contacts the SQL finds are exactly those the rule's meaning, evaluated
// in Go, selects.
func TestSegmentCountMatchesBruteForce(t *testing.T) {
	s := openTest(t)
	rng := rand.New(rand.NewPCG(12, 1))
	contacts := seedSegments(t, s, 600, rng, true)
	ctx := context.Background()
	nonTrivial := 0
	for i := range 400 {
		rule := randomRule(rng, 3, true)
		if err := rule.Validate(); err != nil {
			t.Fatalf("rule %d does not validate: %v\n%+v", i, err, rule)
		}
		where, args, err := s.SegmentWhere(rule)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := s.r.Query("SELECT c.id FROM contacts c WHERE "+where, args...)
		if err != nil {
			t.Fatalf("rule %d: %v\n%s", i, err, where)
		}
		got := map[int64]bool{}
		for rows.Next() {
			var id int64
			rows.Scan(&id)
			got[id] = true
		}
		rows.Close()
		now := time.Now()
		want := 0
		for j := range contacts {
			c := &contacts[j]
			if evalRule(&rule, c, now) != got[c.id] {
				b, _ := json.Marshal(rule)
				t.Fatalf("rule %d %s: contact %+v: SQL says %v\n%s", i, b, *c, got[c.id], where)
			}
			if got[c.id] {
				want++
			}
		}
		if n, err := s.SegmentCount(ctx, rule); err != nil || n != want {
			t.Fatalf("rule %d: count %d, %v; want %d", i, n, err, want)
		}
		if want > 0 && want < len(contacts) {
			nonTrivial++
		}
	}
	if nonTrivial < 200 {
		t.Fatalf("only %d of 400 rules select some but not all contacts: the test proves little", nonTrivial)
	}
}

// TestSegmentWhereEveryOperator compiles one condition per field and
// operator, and checks each selects exactly the contacts it should.
func TestSegmentWhereEveryOperator(t *testing.T) {
	s := openTest(t)
	rng := rand.New(rand.NewPCG(7, 7))
	contacts := seedSegments(t, s, 300, rng, true)
	for _, f := range SegmentFields {
		for _, op := range f.Ops {
			for k := range 5 {
				var r SegmentRule
				for r.Op != op || r.Field != f.Field {
					r = randomCondition(rng, true)
				}
				for _, rule := range []SegmentRule{r, {Group: GroupNot, Rules: []SegmentRule{r}},
					{Group: GroupOr, Rules: []SegmentRule{r, {Field: FieldConsent, Op: "is", Value: "opted_out"}}}} {
					n, err := s.SegmentCount(context.Background(), rule)
					if err != nil {
						t.Fatalf("%s %s #%d: %v", f.Field, op, k, err)
					}
					want := 0
					for j := range contacts {
						if evalRule(&rule, &contacts[j], time.Now()) {
							want++
						}
					}
					if n != want {
						b, _ := json.Marshal(rule)
						t.Fatalf("%s: %d contacts, want %d", b, n, want)
					}
				}
			}
		}
	}
}

func TestSegmentWhereShape(t *testing.T) {
	s := openTest(t)
	where, args, err := s.SegmentWhere(SegmentRule{Group: GroupAnd, Rules: []SegmentRule{
		{Field: FieldTag, Op: "has", Value: "vip"},
		{Group: GroupNot, Rules: []SegmentRule{{Field: FieldConsent, Op: "is", Value: "opted_out"}}},
		{Group: GroupOr, Rules: []SegmentRule{
			{Field: FieldLastInbound, Op: "within_days", Days: 30},
			{Field: FieldAttribute, Key: "city", Op: "not_equals", Value: "Milano"},
		}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := `((c.id IN (SELECT contact_id FROM contact_tags WHERE tag = ?)) AND NOT ((c.consent = ?)) AND ((c.last_inbound_at IS NOT NULL AND c.last_inbound_at >= ?) OR NOT (c.id IN (SELECT contact_id FROM contact_attributes WHERE key = ? AND value = ?))))`
	if where != want {
		t.Fatalf("where:\n%s\nwant:\n%s", where, want)
	}
	if len(args) != 5 || args[0] != "vip" || args[1] != "opted_out" || args[3] != "city" || args[4] != "Milano" {
		t.Fatalf("args: %v", args)
	}
	if where, args, err := s.SegmentWhere(SegmentRule{}); err != nil || where != "1" || len(args) != 0 {
		t.Fatalf("the empty rule: %q %v %v", where, args, err)
	}
}

// TestSegmentRuleRefused: a bad rule is refused with the path to the bad
// node, before any SQL.
func TestSegmentRuleRefused(t *testing.T) {
	s := openTest(t)
	deep := SegmentRule{Field: FieldTag, Op: "has", Value: "x"}
	for range 8 {
		deep = SegmentRule{Group: GroupAnd, Rules: []SegmentRule{deep}}
	}
	for _, tc := range []struct {
		rule SegmentRule
		path string
	}{
		{SegmentRule{Group: "xor"}, "rule.group"},
		{SegmentRule{Field: "c.id; DROP TABLE contacts", Op: "has"}, "rule.field"},
		{SegmentRule{Field: "attributes", Op: "equals", Key: "x", Value: "y"}, "rule.field"},
		{SegmentRule{Group: GroupAnd, Rules: []SegmentRule{{Field: FieldTag, Op: "has", Value: "a"}, {Field: FieldTag, Op: "= 1 OR 1", Value: "a"}}}, "rules[1].op"},
		{SegmentRule{Group: GroupOr, Rules: []SegmentRule{{Group: GroupNot}}}, "rules[0].rules"},
		{SegmentRule{Field: FieldAttribute, Op: "equals", Value: "x"}, "rule.key"},
		{SegmentRule{Field: FieldAttribute, Op: "lt", Key: "spent", Value: "1 OR 1=1"}, "rule.value"},
		{SegmentRule{Field: FieldAttribute, Op: "before", Key: "d", Value: "yesterday"}, "rule.value"},
		{SegmentRule{Field: FieldAttribute, Op: "within_days", Key: "d"}, "rule.days"},
		{SegmentRule{Field: FieldConsent, Op: "is", Value: "maybe"}, "rule.value"},
		{SegmentRule{Field: FieldCountry, Op: "is", Value: "XX"}, "rule.value"},
		{SegmentRule{Field: FieldLanguage, Op: "is", Value: "klingon"}, "rule.value"},
		{SegmentRule{Field: FieldLastInbound, Op: "within_days", Days: -1}, "rule.days"},
		{SegmentRule{Field: FieldLastInbound, Op: "within_days", Days: 99999}, "rule.days"},
		{SegmentRule{Field: FieldEvent, Op: "occurred", Key: "order'); DROP TABLE x;--"}, "rule.key"},
		{SegmentRule{Field: FieldFlow, Op: "active"}, "rule.flow_id"},
		{SegmentRule{Field: FieldFlow, Op: "ended_with", FlowID: 1, Value: "a b"}, "rule.value"},
		{SegmentRule{Field: FieldTag, Op: "has", Value: "a\x00b"}, "rule.value"},
		{SegmentRule{Field: FieldTag, Op: "has", Value: strings.Repeat("x", 201)}, "rule.value"},
		{SegmentRule{Group: GroupAnd, Field: FieldTag, Op: "has"}, "rule"},
		{deep, "rules[0].rules[0].rules[0].rules[0].rules[0].rules[0]"},
	} {
		_, _, err := s.SegmentWhere(tc.rule)
		var se *SegmentError
		if !errors.As(err, &se) {
			t.Fatalf("%+v: %v, want a SegmentError", tc.rule, err)
		}
		if !strings.HasPrefix(se.Error(), tc.path+":") && !strings.HasPrefix(se.Error(), tc.path+".") {
			t.Fatalf("%+v: %q, want it at %s", tc.rule, se.Error(), tc.path)
		}
	}
}

// TestSegmentValuesAreBound: values that look like SQL are only values.
func TestSegmentValuesAreBound(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	evil := []string{`x' OR '1'='1`, `"; DROP TABLE contacts; --`, `') OR 1=1 --`, `%`, `_`, `\`, `?`, `$.a`, `a" , "b`}
	id := int64(0)
	if err := s.tx(ctx, func(tx *sql.Tx) error {
		for i, v := range evil {
			b, _ := json.Marshal(map[string]string{v: v, "note": v})
			r, err := tx.Exec(`INSERT INTO contacts (wa_id, name, attributes, created_at, updated_at) VALUES (?, '', ?, 0, 0)`, fmt.Sprintf("3900%d", i), b)
			if err != nil {
				return err
			}
			id, _ = r.LastInsertId()
			if _, err := tx.Exec(`INSERT INTO contact_tags (contact_id, tag) VALUES (?, ?)`, id, v); err != nil {
				return err
			}
		}
		_, err := tx.Exec(`INSERT INTO contacts (wa_id, name, attributes, created_at, updated_at) VALUES ('3999', '', '{"note":"plain"}', 0, 0)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for _, v := range evil {
		for _, r := range []SegmentRule{
			{Field: FieldTag, Op: "has", Value: v},
			{Field: FieldAttribute, Key: v, Op: "equals", Value: v},
			{Field: FieldAttribute, Key: v, Op: "exists"},
			{Field: FieldAttribute, Key: "note", Op: "equals", Value: v},
		} {
			where, args, err := s.SegmentWhere(r)
			if err != nil {
				t.Fatalf("%q: %v", v, err)
			}
			if strings.Contains(where, v) && v != "?" && v != "_" && v != "%" && v != `\` {
				t.Fatalf("%q reached the SQL: %s", v, where)
			}
			if !slices.Contains(args, any(v)) {
				t.Fatalf("%q is not a parameter: %v", v, args)
			}
			if n, err := s.SegmentCount(ctx, r); err != nil || n != 1 {
				t.Fatalf("%+v: %d contacts, %v; want exactly the one that holds it", r, n, err)
			}
		}
		// contains escapes LIKE's wildcards: "%" finds only the value holding one.
		n, err := s.SegmentCount(ctx, SegmentRule{Field: FieldAttribute, Key: "note", Op: "contains", Value: v})
		want := 0
		for _, w := range append(evil, "plain") {
			if strings.Contains(strings.ToLower(w), strings.ToLower(v)) {
				want++
			}
		}
		if err != nil || n != want {
			t.Fatalf("contains %q: %d, %v; want %d", v, n, err, want)
		}
	}
	var n int
	if err := s.r.QueryRow(`SELECT COUNT(*) FROM contacts`).Scan(&n); err != nil || n != len(evil)+1 {
		t.Fatalf("contacts: %d %v", n, err)
	}
}

// TestSegmentCampaignsNeedCampaigns: before campaigns exist, a rule on
// campaign engagement is refused with a message, not an SQL error.
func TestSegmentCampaignsNeedCampaigns(t *testing.T) {
	s := openTest(t)
	if s.hasTable("campaign_recipients") {
		t.Skip("campaigns are installed: TestSegmentCountMatchesBruteForce covers engagement")
	}
	_, err := s.SegmentCount(context.Background(), SegmentRule{Group: GroupOr, Rules: []SegmentRule{{Field: FieldCampaign, Op: "read"}}})
	var se *SegmentError
	if !errors.As(err, &se) || se.Path != "rules[0]" {
		t.Fatalf("%v", err)
	}
}

// TestContactAttributesFollowTheContact: the rows the rules read follow
// every write of a contact's attributes, and its erasure.
func TestContactAttributesFollowTheContact(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	count := func(r SegmentRule) int {
		t.Helper()
		n, err := s.SegmentCount(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	gold := SegmentRule{Field: FieldAttribute, Key: "plan", Op: "equals", Value: "GOLD"}
	id, err := s.CreateContact(ctx, "393470000001", ContactUpdate{Name: "Ada"}, "", "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if count(gold) != 0 {
		t.Fatal("a new contact has no plan")
	}
	if err := s.UpdateContact(ctx, id, ContactUpdate{Name: "Ada", Attributes: map[string]string{"plan": "gold", "spent": "12.5"}}); err != nil {
		t.Fatal(err)
	}
	if count(gold) != 1 || count(SegmentRule{Field: FieldAttribute, Key: "spent", Op: "gt", Value: "12"}) != 1 {
		t.Fatal("the update is not seen")
	}
	if err := s.UpdateContact(ctx, id, ContactUpdate{Name: "Ada", Attributes: map[string]string{"plan": "silver"}}); err != nil {
		t.Fatal(err)
	}
	if count(gold) != 0 || count(SegmentRule{Field: FieldAttribute, Key: "spent", Op: "exists"}) != 0 {
		t.Fatal("the old attributes are still seen")
	}
	if _, err := s.EraseContact(ctx, id); err != nil {
		t.Fatal(err)
	}
	var n int
	s.r.QueryRow(`SELECT COUNT(*) FROM contact_attributes`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d attribute rows outlive the erased contact", n)
	}
}

// TestSegmentLifecycle: create, count, freeze, members, update, delete.
func TestSegmentLifecycle(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 4))
	contacts := seedSegments(t, s, 200, rng, false)
	vip := SegmentRule{Field: FieldTag, Op: "has", Value: "vip"}
	want := 0
	for i := range contacts {
		if evalRule(&vip, &contacts[i], time.Now()) {
			want++
		}
	}
	g, err := s.CreateSegment(ctx, SegmentInput{Name: " VIPs ", Rule: vip})
	if err != nil || g.Name != "VIPs" || g.Kind != SegmentDynamic {
		t.Fatal(g, err)
	}
	if _, err := s.CreateSegment(ctx, SegmentInput{Name: "vips", Rule: vip}); !errors.Is(err, ErrSegmentName) {
		t.Fatalf("a second segment of the same name: %v", err)
	}
	if n, err := s.SegmentSize(ctx, g); err != nil || n != want {
		t.Fatalf("size %d %v, want %d", n, err, want)
	}
	page, total, next, err := s.SegmentContacts(ctx, g, 0, 10)
	if err != nil || total != want || len(page) != 10 || next == 0 {
		t.Fatalf("page: %d of %d, next %d, %v", len(page), total, next, err)
	}
	if g, err = s.FreezeSegment(ctx, g.ID); err != nil || g.Kind != SegmentFrozen || g.FrozenAt.IsZero() {
		t.Fatal(g, err)
	}
	// A contact tagged after the freeze is not a member of the frozen segment.
	nid, _ := s.CreateContact(ctx, "393479999999", ContactUpdate{Name: "New"}, "", "", time.Time{})
	if err := s.update(ctx, func(t *wtx) error { return t.replaceTags(t.ctx, nid, []string{"vip"}) }); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.SegmentSize(ctx, g); n != want {
		t.Fatalf("frozen size %d, want %d", n, want)
	}
	if n, _ := s.SegmentCount(ctx, vip); n != want+1 {
		t.Fatalf("the rule now finds %d, want %d", n, want+1)
	}
	if g, err = s.FreezeSegment(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.SegmentSize(ctx, g); n != want+1 {
		t.Fatalf("frozen again: %d, want %d", n, want+1)
	}
	if g, err = s.UpdateSegment(ctx, g.ID, SegmentInput{Name: "VIPs", Kind: SegmentDynamic, Rule: vip}); err != nil || g.Kind != SegmentDynamic || !g.FrozenAt.IsZero() {
		t.Fatal(g, err)
	}
	var members int
	s.r.QueryRow(`SELECT COUNT(*) FROM segment_members`).Scan(&members)
	if members != 0 {
		t.Fatalf("%d members kept by a dynamic segment", members)
	}
	if err := s.DeleteSegment(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SegmentByID(ctx, g.ID); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
}

func TestRecordContactEventOnce(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	id, _ := s.CreateContact(ctx, "393470000002", ContactUpdate{Name: "Bo"}, "", "", time.Time{})
	e := ContactEvent{ContactID: id, Name: "order.created", Key: "order.created:42", Data: map[string]string{"total": "12"}}
	for i, want := range []bool{true, false} {
		added, err := s.RecordContactEvent(ctx, e)
		if err != nil || added != want {
			t.Fatalf("send %d: %v %v", i, added, err)
		}
	}
	evs, err := s.ContactEvents(ctx, id, 10)
	if err != nil || len(evs) != 1 || evs[0].Data["total"] != "12" {
		t.Fatal(evs, err)
	}
	if n, _ := s.SegmentCount(ctx, SegmentRule{Field: FieldEvent, Op: "occurred", Key: "order.created", Days: 30}); n != 1 {
		t.Fatalf("%d contacts ordered within 30 days", n)
	}
}

// TestMigrationFillsContactAttributes: contacts with attributes from
// before segments are found by attribute rules once migrated.
func TestMigrationFillsContactAttributes(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sendbox.db")
	s, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	undoMigrations(t, s, 18)
	for i, attrs := range []string{`{"city":"Milano","spent":"120"}`, `{"city":"Roma"}`, `{}`, `not json`, `["a"]`} {
		if _, err := s.w.Exec(`INSERT INTO contacts (wa_id, name, attributes, created_at, updated_at) VALUES (?, '', ?, 0, 0)`,
			fmt.Sprintf("3934%d", i), attrs); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	if s, err = Open(ctx, path, nil); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, tc := range []struct {
		rule SegmentRule
		want int
	}{
		{SegmentRule{Field: FieldAttribute, Key: "city", Op: "equals", Value: "milano"}, 1},
		{SegmentRule{Field: FieldAttribute, Key: "city", Op: "exists"}, 2},
		{SegmentRule{Field: FieldAttribute, Key: "spent", Op: "gt", Value: "100"}, 1},
	} {
		if n, err := s.SegmentCount(ctx, tc.rule); err != nil || n != tc.want {
			t.Fatalf("%+v: %d %v, want %d", tc.rule, n, err, tc.want)
		}
	}
}

// FuzzSegmentRule: whatever JSON a client sends as a rule, SegmentWhere
// refuses it with a SegmentError or gives SQL that runs.
//
//	go test -run '^$' -fuzz FuzzSegmentRule -fuzztime 30s ./store
func FuzzSegmentRule(f *testing.F) {
	for _, seed := range []string{`{}`, `{"field":"tag","op":"has","value":"vip"}`,
		`{"group":"not","rules":[{"field":"attribute","key":"a'b","op":"contains","value":"%_\\"}]}`,
		`{"group":"or","rules":[{"field":"country","op":"is","value":"US"},{"field":"event","op":"occurred","key":"o.c","days":3,"count":2}]}`,
		`{"field":"flow","op":"ended_with","flow_id":1,"value":"done"}`, `{"field":"last_inbound","op":"not_within_days","days":30}`} {
		f.Add([]byte(seed))
	}
	s := openTest(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		var r SegmentRule
		if json.Unmarshal(b, &r) != nil {
			return
		}
		where, args, err := s.SegmentWhere(r)
		if err != nil {
			var se *SegmentError
			if !errors.As(err, &se) {
				t.Fatalf("%s: %v is not a SegmentError", b, err)
			}
			return
		}
		if strings.Count(where, "?") != len(args) {
			t.Fatalf("%s: %d placeholders, %d args", b, strings.Count(where, "?"), len(args))
		}
		var n int
		if err := s.r.QueryRow("SELECT COUNT(*) FROM contacts c WHERE "+where, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v\n%s", b, err, where)
		}
	})
}

// TestSegmentDaysAreTheBusinesssDays: "within 1 day" is today and
// yesterday in the business's zone (Europe/Rome here), from yesterday's
// midnight there, on the days its clocks change too. On Monday after the
// last Sunday of March (a day of 23 hours) and of October (25 hours),
// at 00:30 and at noon, a contact active on Saturday at 23:30 is out and
// those active on Sunday at 00:30, Sunday at 23:50 and Monday at 00:10 are
// in, whether the rule reads their last message, an event, a campaign's
// read, or an attribute holding the date or the time (UTC, "…Z").
// Counting 24 hours back from now (UTC days) takes the wrong ones, and so
// does finding midnight with today's offset.
func TestSegmentDaysAreTheBusinesssDays(t *testing.T) {
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Skip("no time zone data:", err)
	}
	saved := now
	t.Cleanup(func() { now = saved })
	ctx := context.Background()
	for _, mon := range []time.Time{
		time.Date(2026, 3, 30, 0, 30, 0, 0, rome), time.Date(2026, 3, 30, 12, 0, 0, 0, rome),
		time.Date(2026, 10, 26, 0, 30, 0, 0, rome), time.Date(2026, 10, 26, 12, 0, 0, 0, rome),
	} {
		t.Run(mon.Format("2006-01-02T15:04"), func(t *testing.T) {
			s := openTest(t)
			s.Location = func() *time.Location { return rome }
			cur := mon.UTC()
			now = func() time.Time { return cur }
			if _, err := s.w.Exec(`INSERT INTO campaigns (id, name, created_at, updated_at) VALUES (1, 'spring', 0, 0)`); err != nil {
				t.Fatal(err)
			}
			sun := mon.AddDate(0, 0, -1)
			at := func(d time.Time, h, m int) time.Time {
				return time.Date(d.Year(), d.Month(), d.Day(), h, m, 0, 0, rome)
			}
			times := []time.Time{at(mon.AddDate(0, 0, -2), 23, 30), at(sun, 0, 30), at(sun, 23, 50), at(mon, 0, 10)}
			want := []bool{false, true, true, true}
			err := s.tx(ctx, func(tx *sql.Tx) error {
				for i, tm := range times {
					c := fxContact{id: int64(i + 1), waID: fmt.Sprintf("3934700000%02d", i), consent: ConsentUnknown,
						lastInbound: tm.UnixMilli(),
						attrs:       map[string]string{"seen": tm.UTC().Format(time.RFC3339), "day": tm.Format(time.DateOnly)},
						events:      []fxEvent{{"order.created", tm.UnixMilli()}},
						recipients:  []fxRecipient{{1, map[string]int64{"sent_at": tm.UnixMilli(), "read_at": tm.UnixMilli()}}}}
					if err := writeFixture(tx, &c); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			sat := mon.AddDate(0, 0, -2).Format(time.DateOnly)
			for _, tc := range []struct {
				rule   SegmentRule
				invert bool
			}{
				{rule: SegmentRule{Field: FieldLastInbound, Op: "within_days", Days: 1}},
				{rule: SegmentRule{Field: FieldLastInbound, Op: "not_within_days", Days: 1}, invert: true},
				{rule: SegmentRule{Field: FieldEvent, Op: "occurred", Key: "order.created", Days: 1}},
				{rule: SegmentRule{Field: FieldCampaign, Op: "read", Days: 1}},
				{rule: SegmentRule{Field: FieldCampaign, Op: "read", CampaignID: 1, Days: 1}},
				{rule: SegmentRule{Field: FieldAttribute, Op: "within_days", Key: "day", Days: 1}},
				{rule: SegmentRule{Field: FieldAttribute, Op: "within_days", Key: "seen", Days: 1}},
				{rule: SegmentRule{Field: FieldAttribute, Op: "after", Key: "seen", Value: sat}},
				{rule: SegmentRule{Field: FieldAttribute, Op: "after", Key: "day", Value: sat}},
				{rule: SegmentRule{Field: FieldAttribute, Op: "before", Key: "seen", Value: sun.Format(time.DateOnly)}, invert: true},
			} {
				where, args, err := s.SegmentWhere(tc.rule)
				if err != nil {
					t.Fatal(err)
				}
				rows, err := s.r.Query("SELECT c.id FROM contacts c WHERE "+where, args...)
				if err != nil {
					t.Fatal(err)
				}
				got := map[int64]bool{}
				for rows.Next() {
					var id int64
					rows.Scan(&id)
					got[id] = true
				}
				rows.Close()
				for i, tm := range times {
					if got[int64(i+1)] != (want[i] != tc.invert) {
						b, _ := json.Marshal(tc.rule)
						t.Errorf("%s at %s: active %s (%s UTC): selected %v", b, mon.Format("Mon 2006-01-02 15:04 MST"),
							tm.Format("Mon 15:04 MST"), tm.UTC().Format("Mon 15:04"), got[int64(i+1)])
					}
				}
			}
		})
	}
}

package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"time"
)

// The rate card and what campaign analytics read: what Meta charges per
// delivered template by category and country (editable, dated, with its
// source), the pricing object of status webhooks kept per message, the
// pacing status of the send response (Meta holding a template's messages
// while it assesses its quality), and the recipients' sends, deliveries
// and reads over time. The arithmetic is campaigns/'s.

// schemaV22 adds the rate card and the per-message pricing and pacing.
// Rates are kept in millionths of the currency unit, so sums are exact.
const schemaV22 = `
CREATE TABLE rate_card (
	country       TEXT PRIMARY KEY,      -- ISO 3166-1 alpha-2, or 'other'
	currency      TEXT NOT NULL,
	marketing     INTEGER,               -- millionths per delivered message; NULL: no rate
	utility       INTEGER,
	authentication INTEGER,
	authentication_international INTEGER,
	source        TEXT NOT NULL DEFAULT '',
	source_url    TEXT NOT NULL DEFAULT '',
	as_of         TEXT NOT NULL DEFAULT '', -- YYYY-MM-DD
	updated_by    TEXT NOT NULL DEFAULT '',
	updated_at    INTEGER NOT NULL
);
-- The status webhooks' pricing object (category; type regular,
-- free_customer_service or free_entry_point; billable, being deprecated;
-- model PMP, or CBP before 2025-07), and the send response's
-- message_status when it is not "accepted" (Meta's template pacing).
ALTER TABLE messages ADD COLUMN pricing_category TEXT;
ALTER TABLE messages ADD COLUMN pricing_type TEXT;
ALTER TABLE messages ADD COLUMN pricing_billable INTEGER;
ALTER TABLE messages ADD COLUMN pricing_model TEXT;
ALTER TABLE messages ADD COLUMN pacing_status TEXT
`

// DefaultRateSource labels the default rates: a third-party copy of
// Meta's card, to be checked on Meta's page.
const (
	DefaultRateAsOf   = "2026-12-05"
	DefaultRateSource = "Meta's USD rate card as copied on " + DefaultRateAsOf + ", verify on Meta's pricing page"
	MetaPricingURL    = "https://developers.facebook.com/docs/whatsapp/pricing"
	RateOther         = "other"
)

// defaultRates are USD per delivered message: marketing, utility,
// authentication (authentication-international has no rate in these
// markets).
var defaultRates = []struct {
	country string
	m, u, a float64
}{
	{"IT", 0.0691, 0.0300, 0.0378},
	{"FR", 0.1432, 0.0300, 0.0691},
	{"DE", 0.1365, 0.0550, 0.0768},
	{"ES", 0.0615, 0.0200, 0.0342},
	{"GB", 0.0529, 0.0220, 0.0358},
}

func migrateV22(ctx context.Context, tx *sql.Tx) error {
	if err := execAll(schemaV22)(ctx, tx); err != nil {
		return err
	}
	now := time.Now().UnixMilli()
	for _, r := range defaultRates {
		if _, err := tx.ExecContext(ctx, `INSERT INTO rate_card (country, currency, marketing, utility, authentication,
			source, source_url, as_of, updated_at) VALUES (?, 'USD', ?, ?, ?, ?, ?, ?, ?)`,
			r.country, micros(r.m), micros(r.u), micros(r.a), DefaultRateSource, MetaPricingURL, DefaultRateAsOf, now); err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO rate_card (country, currency, source, updated_at) VALUES ('other', 'USD', ?, ?)`,
		"no rate yet: fill it in for the countries not listed", now)
	return err
}

func micros(v float64) int64 { return int64(math.Round(v * 1e6)) }

// Rate is one row of the rate card: a country's price per delivered
// template by category, in the card's currency; nil is no rate.
type Rate struct {
	Country                     string    `json:"country"`
	Marketing                   *float64  `json:"marketing"`
	Utility                     *float64  `json:"utility"`
	Authentication              *float64  `json:"authentication"`
	AuthenticationInternational *float64  `json:"authentication_international"`
	Source                      string    `json:"source"`
	SourceURL                   string    `json:"source_url,omitempty"`
	AsOf                        string    `json:"as_of,omitempty"`
	UpdatedBy                   string    `json:"updated_by,omitempty"`
	UpdatedAt                   time.Time `json:"updated_at"`
}

// RateCard is the whole card: one currency, a row per country and the
// "other" row for the rest.
type RateCard struct {
	Currency string `json:"currency"`
	Rates    []Rate `json:"rates"`
}

func fromMicros(v sql.NullInt64) *float64 {
	if !v.Valid {
		return nil
	}
	f := float64(v.Int64) / 1e6
	return &f
}

func toMicros(v *float64) any {
	if v == nil {
		return nil
	}
	return micros(*v)
}

// RateCard reads the rate card, countries in order, "other" last.
func (s *Store) RateCard(ctx context.Context) (*RateCard, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT country, currency, marketing, utility, authentication, authentication_international,
		source, source_url, as_of, updated_by, updated_at FROM rate_card ORDER BY country = 'other', country`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	card := &RateCard{Rates: []Rate{}}
	for rows.Next() {
		var r Rate
		var m, u, a, ai sql.NullInt64
		var at int64
		if err := rows.Scan(&r.Country, &card.Currency, &m, &u, &a, &ai, &r.Source, &r.SourceURL, &r.AsOf, &r.UpdatedBy, &at); err != nil {
			return nil, err
		}
		r.Marketing, r.Utility, r.Authentication, r.AuthenticationInternational = fromMicros(m), fromMicros(u), fromMicros(a), fromMicros(ai)
		r.UpdatedAt = time.UnixMilli(at).UTC()
		card.Rates = append(card.Rates, r)
	}
	return card, rows.Err()
}

// SetRateCard replaces the rate card in one transaction (campaigns/
// checks it first). A row whose rates, source and date are unchanged
// keeps its author and time, so saving the same card twice changes
// nothing.
func (s *Store) SetRateCard(ctx context.Context, card *RateCard, by string) error {
	return s.update(ctx, func(t *wtx) error {
		keep := map[string]bool{}
		for _, r := range card.Rates {
			keep[r.Country] = true
			if _, err := t.exec(`INSERT INTO rate_card (country, currency, marketing, utility, authentication, authentication_international,
				source, source_url, as_of, updated_by, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
				ON CONFLICT (country) DO UPDATE SET currency = ?2, marketing = ?3, utility = ?4, authentication = ?5,
					authentication_international = ?6, source = ?7, source_url = ?8, as_of = ?9, updated_by = ?10, updated_at = ?11
				WHERE currency IS NOT ?2 OR marketing IS NOT ?3 OR utility IS NOT ?4 OR authentication IS NOT ?5
					OR authentication_international IS NOT ?6 OR source IS NOT ?7 OR source_url IS NOT ?8 OR as_of IS NOT ?9`,
				r.Country, card.Currency, toMicros(r.Marketing), toMicros(r.Utility), toMicros(r.Authentication),
				toMicros(r.AuthenticationInternational), r.Source, r.SourceURL, r.AsOf, by, t.now.UnixMilli()); err != nil {
				return fmt.Errorf("rate %s: %w", r.Country, err)
			}
		}
		rows, err := t.query("SELECT country FROM rate_card")
		if err != nil {
			return err
		}
		var drop []string
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				rows.Close()
				return err
			}
			if !keep[c] {
				drop = append(drop, c)
			}
		}
		rows.Close()
		for _, c := range drop {
			if _, err := t.exec("DELETE FROM rate_card WHERE country = ?", c); err != nil {
				return err
			}
		}
		return nil
	})
}

// recordPricing keeps a status webhook's pricing object on its message
// (the sent and one of the delivered/read statuses carry it; both say the
// same). A status about a message whose wamid is not known yet changes
// nothing here: the statuses table keeps the pricing and the cost reads
// it from there.
func (t *wtx) recordPricing(u *StatusUpdate) error {
	if u.PricingCategory == "" && u.PricingType == "" {
		return nil
	}
	var billable any
	if u.PricingBillable != nil {
		billable = *u.PricingBillable
	}
	_, err := t.exec(`UPDATE messages SET pricing_category = ?1, pricing_type = ?2, pricing_billable = ?3, pricing_model = ?4
		WHERE wamid = ?5 AND direction = 'outbound'
		AND (pricing_category IS NOT ?1 OR pricing_type IS NOT ?2 OR pricing_billable IS NOT ?3 OR pricing_model IS NOT ?4)`,
		nullStr(u.PricingCategory), nullStr(u.PricingType), billable, nullStr(u.PricingModel), u.WAMID)
	return err
}

// recordPacing keeps the send response's message_status when Meta held or
// paused the message ("accepted", the usual answer, is not written).
func (t *wtx) recordPacing(messageID int64, status string) error {
	if status == "" || status == "accepted" {
		return nil
	}
	_, err := t.exec("UPDATE messages SET pacing_status = ? WHERE id = ?", status, messageID)
	return err
}

// recordPacingOf is recordPacing for a message a status echo settled
// before its send was recorded: only if the message is that send's.
func (t *wtx) recordPacingOf(messageID int64, wamid, status string) error {
	if status == "" || status == "accepted" || wamid == "" {
		return nil
	}
	_, err := t.exec("UPDATE messages SET pacing_status = ? WHERE id = ? AND wamid = ? AND pacing_status IS NULL", status, messageID, wamid)
	return err
}

// CountryCount is how many recipients one calling-code prefix (the first
// four digits of their numbers, enough to tell every country) has, and
// how many of them wrote within the last 24 hours (utility templates are
// free inside that window). Variant is the recipient's variant ("" for a
// campaign not launched yet, or a recipient waiting for the A/B winner).
type CountryCount struct {
	Prefix   string
	Variant  string
	Total    int
	InWindow int
}

// AudienceByCountry counts an audience (a WHERE over contacts c) with a
// number by prefix, and those whose customer service window is open at
// now. exclude is more of the WHERE (the contacts the campaign skips).
func (s *Store) AudienceByCountry(ctx context.Context, where string, args []any, exclude string, now time.Time) ([]CountryCount, error) {
	if exclude != "" {
		where = "(" + where + ") AND " + exclude
	}
	q := `SELECT substr(c.wa_id, 1, 4), '', COUNT(*), COALESCE(SUM(c.last_inbound_at > ?), 0) FROM contacts c
		WHERE c.wa_id IS NOT NULL AND c.wa_id != '' AND (` + where + `) GROUP BY 1`
	return countryCounts(s.r.QueryContext(ctx, q, append([]any{now.Add(-24 * time.Hour).UnixMilli()}, args...)...))
}

// RecipientsByCountry counts a launched campaign's recipients that are or
// will be sent (not skipped or cancelled) by prefix and variant, with
// those whose window was open when the message went (now for the ones
// not sent yet).
func (s *Store) RecipientsByCountry(ctx context.Context, campaignID int64, now time.Time) ([]CountryCount, error) {
	q := `SELECT substr(c.wa_id, 1, 4), r.variant, COUNT(*),
		COALESCE(SUM(c.last_inbound_at > COALESCE(r.sent_at, ?2) - 86400000 AND c.last_inbound_at <= COALESCE(r.sent_at, ?2)), 0)
		FROM campaign_recipients r JOIN contacts c ON c.id = r.contact_id
		WHERE r.campaign_id = ?1 AND r.state NOT IN ('skipped', 'cancelled') AND c.wa_id IS NOT NULL AND c.wa_id != ''
		GROUP BY 1, 2`
	return countryCounts(s.r.QueryContext(ctx, q, campaignID, now.UnixMilli()))
}

func countryCounts(rows *sql.Rows, err error) ([]CountryCount, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []CountryCount
	for rows.Next() {
		var c CountryCount
		if err := rows.Scan(&c.Prefix, &c.Variant, &c.Total, &c.InWindow); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// PricedCount is how many of a campaign's messages to one prefix Meta
// priced one way (its pricing object), and whether they were delivered
// (Meta charges delivered messages only).
type PricedCount struct {
	Prefix    string
	Category  string // "" when no pricing object came back yet
	Type      string
	Model     string
	Billable  *bool
	Delivered bool
	N         int
}

// CampaignPricing groups a campaign's sent messages by their pricing. The
// pricing is the message's, else the one a status webhook left in the
// statuses table before sendbox knew the message's wamid.
func (s *Store) CampaignPricing(ctx context.Context, campaignID int64) ([]PricedCount, error) {
	pick := func(col string) string {
		return `COALESCE(m.` + col + `, (SELECT s.` + col + ` FROM statuses s WHERE s.wamid = m.wamid AND s.pricing_category IS NOT NULL LIMIT 1), '')`
	}
	q := `SELECT substr(COALESCE(c.wa_id, r.wa_id, ''), 1, 4), ` + pick("pricing_category") + `, ` + pick("pricing_type") + `,
		COALESCE(m.pricing_model, (SELECT json_extract(s.raw, '$.pricing.pricing_model') FROM statuses s WHERE s.wamid = m.wamid AND s.pricing_category IS NOT NULL LIMIT 1), ''),
		COALESCE(m.pricing_billable, (SELECT json_extract(s.raw, '$.pricing.billable') FROM statuses s WHERE s.wamid = m.wamid AND s.pricing_category IS NOT NULL LIMIT 1)),
		r.delivered_at IS NOT NULL OR m.status IN ('delivered', 'read', 'played'), COUNT(*)
		FROM campaign_recipients r JOIN messages m ON m.id = r.message_id JOIN contacts c ON c.id = r.contact_id
		WHERE r.campaign_id = ? AND m.wamid IS NOT NULL
		GROUP BY 1, 2, 3, 4, 5, 6`
	rows, err := s.r.QueryContext(ctx, q, campaignID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []PricedCount
	for rows.Next() {
		var p PricedCount
		var b sql.NullBool
		if err := rows.Scan(&p.Prefix, &p.Category, &p.Type, &p.Model, &b, &p.Delivered, &p.N); err != nil {
			return nil, err
		}
		if b.Valid {
			v := b.Bool
			p.Billable = &v
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// CampaignHeld counts a campaign's messages by the pacing status Meta
// answered (held_for_quality_assessment, paused).
func (s *Store) CampaignHeld(ctx context.Context, campaignID int64) (map[string]int, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT m.pacing_status, COUNT(*) FROM campaign_recipients r JOIN messages m ON m.id = r.message_id
		WHERE r.campaign_id = ? AND m.pacing_status IS NOT NULL GROUP BY 1`, campaignID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, err
		}
		out[k] = n
	}
	return out, rows.Err()
}

// SeriesPoint is one bucket of a campaign's timeline.
type SeriesPoint struct {
	At        time.Time `json:"at"`
	Sent      int       `json:"sent"`
	Delivered int       `json:"delivered"`
	Read      int       `json:"read"`
}

// CampaignSpan is the first send and the last send, delivery or read of
// a campaign's recipients (zero times when nothing was sent).
func (s *Store) CampaignSpan(ctx context.Context, campaignID int64) (first, last time.Time, err error) {
	var lo, hi sql.NullInt64
	err = s.r.QueryRowContext(ctx, `SELECT MIN(sent_at), MAX(MAX(COALESCE(sent_at, 0), COALESCE(delivered_at, 0), COALESCE(read_at, 0)))
		FROM campaign_recipients WHERE campaign_id = ? AND sent_at IS NOT NULL`, campaignID).Scan(&lo, &hi)
	return fromMS(lo), fromMS(hi), err
}

// CampaignSeries counts a campaign's sends, deliveries and reads per
// bucket of the given width from first (buckets with nothing are left
// out; campaigns/ fills them).
func (s *Store) CampaignSeries(ctx context.Context, campaignID int64, first time.Time, bucket time.Duration) ([]SeriesPoint, error) {
	w, base := bucket.Milliseconds(), first.UnixMilli()
	rows, err := s.r.QueryContext(ctx, `SELECT b, SUM(k = 0), SUM(k = 1), SUM(k = 2) FROM (
			SELECT (sent_at - ?2) / ?3 AS b, 0 AS k FROM campaign_recipients WHERE campaign_id = ?1 AND sent_at IS NOT NULL
			UNION ALL SELECT (delivered_at - ?2) / ?3, 1 FROM campaign_recipients WHERE campaign_id = ?1 AND delivered_at IS NOT NULL
			UNION ALL SELECT (read_at - ?2) / ?3, 2 FROM campaign_recipients WHERE campaign_id = ?1 AND read_at IS NOT NULL)
		GROUP BY b ORDER BY b`, campaignID, base, w)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []SeriesPoint
	for rows.Next() {
		var b int64
		var p SeriesPoint
		if err := rows.Scan(&b, &p.Sent, &p.Delivered, &p.Read); err != nil {
			return nil, err
		}
		p.At = time.UnixMilli(base + b*w).UTC()
		out = append(out, p)
	}
	return out, rows.Err()
}

// OptOut is a recipient who opted out within the attribution window
// after the campaign's message.
type OptOut struct {
	ContactID int64     `json:"contact_id"`
	Name      string    `json:"name"`
	WaID      string    `json:"wa_id,omitempty"`
	SentAt    time.Time `json:"sent_at"`
	At        time.Time `json:"opted_out_at"`
}

// CampaignOptOuts lists up to limit of the opt-outs CampaignProgress
// counts, the latest first.
func (s *Store) CampaignOptOuts(ctx context.Context, campaignID int64, limit int) ([]OptOut, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT c.id, c.name, COALESCE(c.wa_id, ''), COALESCE(r.sent_at, 0), r.opted_out_at
		FROM campaign_recipients r JOIN contacts c ON c.id = r.contact_id
		WHERE r.campaign_id = ? AND r.opted_out_at IS NOT NULL
		ORDER BY r.opted_out_at DESC LIMIT ?`, campaignID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []OptOut{}
	for rows.Next() {
		var o OptOut
		var sent, at int64
		if err := rows.Scan(&o.ContactID, &o.Name, &o.WaID, &sent, &at); err != nil {
			return nil, err
		}
		o.SentAt, o.At = time.UnixMilli(sent).UTC(), time.UnixMilli(at).UTC()
		out = append(out, o)
	}
	return out, rows.Err()
}

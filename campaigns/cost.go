package campaigns

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"sendbox/language"
	"sendbox/store"
)

// Cost: what a campaign costs by the rate card (Meta charges per
// delivered template, by the template's category and the recipient's
// country; utility templates inside an open 24-hour window are free),
// estimated from the audience before the launch and from the pricing
// object of status webhooks after.

// Rate categories: the rate card's columns.
const (
	CatMarketing      = "marketing"
	CatUtility        = "utility"
	CatAuthentication = "authentication"
	CatAuthIntl       = "authentication_international"
)

// RateCategories are the rate card's categories, in order.
var RateCategories = []string{CatMarketing, CatUtility, CatAuthentication, CatAuthIntl}

// rateCategory maps a template's category (MARKETING) or a pricing
// object's (authentication-international, marketing_lite) to the card's
// column; "" for the categories Meta does not charge (service,
// referral_conversion).
func rateCategory(c string) string {
	switch strings.ToLower(strings.ReplaceAll(c, "-", "_")) {
	case "marketing", "marketing_lite":
		return CatMarketing
	case "utility":
		return CatUtility
	case "authentication":
		return CatAuthentication
	case "authentication_international":
		return CatAuthIntl
	}
	return ""
}

// rate returns a country's rate for a category: its row's, else the
// "other" row's; nil when neither has one.
func rate(card *store.RateCard, country, cat string) *float64 {
	pick := func(r *store.Rate) *float64 {
		switch cat {
		case CatMarketing:
			return r.Marketing
		case CatUtility:
			return r.Utility
		case CatAuthentication:
			return r.Authentication
		case CatAuthIntl:
			return r.AuthenticationInternational
		}
		return nil
	}
	var other *float64
	for i := range card.Rates {
		r := &card.Rates[i]
		if r.Country == country {
			if v := pick(r); v != nil {
				return v
			}
		}
		if r.Country == store.RateOther {
			other = pick(r)
		}
	}
	return other
}

// Cost is a campaign's cost, estimated or actual, in the card's currency.
type Cost struct {
	Currency string  `json:"currency"`
	Amount   float64 `json:"amount"`   // rounded to 1/10,000
	Billable int     `json:"billable"` // messages charged (at a known rate)
	// Free are the messages Meta does not charge: utility inside an open
	// window (estimate), free_customer_service / free_entry_point or
	// service (actual).
	Free int `json:"free"`
	// NoRate are the messages to countries the card has no rate for
	// (neither the country's row nor "other"), not in Amount.
	NoRate          int      `json:"no_rate"`
	NoRateCountries []string `json:"no_rate_countries,omitempty"`
	// Pending (actual only): priced but not delivered yet; not charged.
	Pending int `json:"pending,omitempty"`
	// Unpriced (actual only): sent, no pricing object yet.
	Unpriced int        `json:"unpriced,omitempty"`
	Lines    []CostLine `json:"lines"`
	Note     string     `json:"note,omitempty"`
}

// CostLine is one country × category of a Cost.
type CostLine struct {
	Country  string   `json:"country"` // ISO code, "" for an unknown calling code
	Category string   `json:"category"`
	Messages int      `json:"messages"` // charged
	Free     int      `json:"free"`
	Rate     *float64 `json:"rate"` // nil: no rate
	Amount   float64  `json:"amount"`
}

// costSum builds a Cost line by line; amounts are summed in millionths so
// that the total is the sum of the lines.
type costSum struct {
	card   *store.RateCard
	lines  map[[2]string]*CostLine
	micros map[[2]string]int64
	out    Cost
}

func newCostSum(card *store.RateCard) *costSum {
	return &costSum{card: card, lines: map[[2]string]*CostLine{}, micros: map[[2]string]int64{}, out: Cost{Currency: card.Currency}}
}

func (s *costSum) line(country, cat string) *CostLine {
	k := [2]string{country, cat}
	l := s.lines[k]
	if l == nil {
		l = &CostLine{Country: country, Category: cat, Rate: rate(s.card, country, cat)}
		s.lines[k] = l
	}
	return l
}

// add counts n charged messages and free ones to a country in a category.
func (s *costSum) add(country, cat string, charged, free int) {
	if charged == 0 && free == 0 {
		return
	}
	l := s.line(country, cat)
	l.Free += free
	s.out.Free += free
	l.Messages += charged
	if charged == 0 {
		return
	}
	if l.Rate == nil {
		s.out.NoRate += charged
		name := country
		if name == "" {
			name = "?"
		}
		if !slices.Contains(s.out.NoRateCountries, name) {
			s.out.NoRateCountries = append(s.out.NoRateCountries, name)
		}
		return
	}
	s.out.Billable += charged
	s.micros[[2]string{country, cat}] += int64(charged) * int64(math.Round(*l.Rate*1e6))
}

func (s *costSum) done() *Cost {
	var total int64
	s.out.Lines = []CostLine{}
	for k, l := range s.lines {
		l.Amount = float64(s.micros[k]) / 1e6
		total += s.micros[k]
		s.out.Lines = append(s.out.Lines, *l)
	}
	sort.Slice(s.out.Lines, func(i, j int) bool {
		a, b := s.out.Lines[i], s.out.Lines[j]
		if a.Country != b.Country {
			return a.Country < b.Country
		}
		return slices.Index(RateCategories, a.Category) < slices.Index(RateCategories, b.Category)
	})
	slices.Sort(s.out.NoRateCountries)
	s.out.Amount = math.Round(float64(total)/100) / 1e4
	return &s.out
}

// share is a part of the recipients going to a template category.
type share struct {
	Category string  // the card's column; "" = not charged (a flow, the hold-out)
	Part     float64 // of the recipients, 0..1
}

// EstimateCost prices counts (recipients by prefix and variant): each
// variant's recipients by its category (mix; a recipient with no variant
// yet is spread by mix[""]), utility inside the window free.
func EstimateCost(card *store.RateCard, counts []store.CountryCount, mix map[string][]share) *Cost {
	sum := newCostSum(card)
	for _, c := range counts {
		country := language.Country(c.Prefix)
		parts := mix[c.Variant]
		if parts == nil {
			parts = mix[""]
		}
		// Split the counts by cumulative rounding, so the parts add up.
		var cum float64
		doneT, doneW := 0, 0
		for _, p := range parts {
			cum += p.Part
			t := int(math.Round(float64(c.Total) * cum))
			w := int(math.Round(float64(c.InWindow) * cum))
			n, win := t-doneT, w-doneW
			doneT, doneW = t, w
			if p.Category == "" {
				continue
			}
			if p.Category == CatUtility {
				sum.add(country, p.Category, n-win, win)
			} else {
				sum.add(country, p.Category, n, 0)
			}
		}
	}
	return sum.done()
}

// ActualCost prices a campaign's messages by what Meta's status webhooks
// said: type regular (or, without a type, billable under per-message
// pricing) is charged at the category's rate once delivered; the free
// types and the uncharged categories are free.
func ActualCost(card *store.RateCard, priced []store.PricedCount) *Cost {
	sum := newCostSum(card)
	for _, p := range priced {
		country := language.Country(p.Prefix)
		cat := rateCategory(p.Category)
		charged := false
		switch {
		case p.Category == "" && p.Type == "":
			sum.out.Unpriced += p.N
			continue
		case p.Type == "regular":
			charged = cat != ""
		case p.Type == "":
			charged = cat != "" && p.Billable != nil && *p.Billable && p.Model != "CBP"
		}
		if !charged {
			sum.add(country, cmp(cat, strings.ToLower(p.Category)), 0, p.N)
			continue
		}
		if !p.Delivered {
			sum.out.Pending += p.N
			continue
		}
		sum.add(country, cat, p.N, 0)
	}
	return sum.done()
}

func cmp(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// templateMix is each variant's share of its recipients by category, and
// for "" (before the launch, or waiting for the A/B winner) the
// campaign's mix: variants by their share, the hold-out not charged.
func (s *Service) templateMix(ctx context.Context, c *Campaign) (map[string][]share, error) {
	out := map[string][]share{}
	if len(c.VariantList) == 0 {
		out[""] = []share{{Part: 1}}
		return out, nil
	}
	cats := map[string]string{}
	for _, v := range c.VariantList {
		tp, err := s.Store.TemplateByName(ctx, v.Template, v.Language)
		if err != nil {
			return nil, fmt.Errorf("template %s (%s): %w", v.Template, v.Language, err)
		}
		cats[v.Name] = rateCategory(tp.Category)
		out[v.Name] = []share{{Category: cats[v.Name], Part: 1}}
	}
	out[store.HoldoutVariant] = []share{{Part: 1}}
	hold := float64(c.SettingsDef.HoldoutShare) / 100
	var all []share
	total := 0
	for _, v := range c.VariantList {
		total += max(v.Share, 0)
	}
	for _, v := range c.VariantList {
		part := 1.0 / float64(len(c.VariantList))
		if total > 0 {
			part = float64(max(v.Share, 0)) / float64(total)
		}
		all = append(all, share{Category: cats[v.Name], Part: part * (1 - hold)})
	}
	if hold > 0 {
		all = append(all, share{Part: hold})
	}
	out[""] = all
	return out, nil
}

// Estimate prices a campaign by the rate card: before the launch over the
// audience that would get it (a number; for marketing, not opted out and
// not +1 when blocked), after it over the recipients not skipped. A flow
// campaign has no estimate (its messages are the flow's).
func (s *Service) Estimate(ctx context.Context, c *Campaign) (*Cost, error) {
	card, err := s.Store.RateCard(ctx)
	if err != nil {
		return nil, err
	}
	if len(c.VariantList) == 0 {
		return &Cost{Currency: card.Currency, Lines: []CostLine{}, Note: "a flow campaign: the flow's messages are not estimated"}, nil
	}
	mix, err := s.templateMix(ctx, c)
	if err != nil {
		return nil, err
	}
	var counts []store.CountryCount
	if c.State == store.CampaignDraft || c.State == store.CampaignScheduled {
		where, args, err := s.where(c.AudienceDef)
		if err != nil {
			return nil, err
		}
		marketing := false
		for _, parts := range mix {
			for _, p := range parts {
				marketing = marketing || p.Category == CatMarketing
			}
		}
		exclude := ""
		if marketing {
			exclude = "c.consent != 'opted_out'"
			if c.SettingsDef.blockPlusOne() {
				exclude += " AND c.wa_id NOT LIKE '1%'"
			}
		}
		counts, err = s.Store.AudienceByCountry(ctx, where, args, exclude, s.now())
		if err != nil {
			return nil, err
		}
	} else if counts, err = s.Store.RecipientsByCountry(ctx, c.ID, s.now()); err != nil {
		return nil, err
	}
	return EstimateCost(card, counts, mix), nil
}

// Analytics is a campaign's figures beyond the funnel: cost estimated and
// actual, the messages Meta's pacing held, and the timeline.
type Analytics struct {
	Funnel    *store.CampaignFunnel `json:"funnel"`
	Estimated *Cost                 `json:"cost_estimated"`
	Actual    *Cost                 `json:"cost_actual"`
	Held      map[string]int        `json:"held"`     // by message_status: held_for_quality_assessment, paused
	OptOuts   []store.OptOut        `json:"opt_outs"` // the latest 100 of funnel.opted_out
	Series    Series                `json:"series"`
}

// Series is sends, deliveries and reads per bucket, gaps filled.
type Series struct {
	Bucket string              `json:"bucket"` // minute, hour, day
	Points []store.SeriesPoint `json:"points"`
}

// maxPoints bounds a timeline: past it the bucket widens.
const maxPoints = 180

// seriesBucket picks the bucket for a span: minutes up to three hours,
// hours up to a week, days beyond.
func seriesBucket(span time.Duration) (string, time.Duration) {
	switch {
	case span <= 3*time.Hour:
		return "minute", time.Minute
	case span <= 7*24*time.Hour:
		return "hour", time.Hour
	}
	return "day", 24 * time.Hour
}

// Analytics gathers a campaign's analytics.
func (s *Service) Analytics(ctx context.Context, id int64) (*Analytics, error) {
	sc, err := s.Store.CampaignByID(ctx, id)
	if err != nil {
		return nil, err
	}
	c, err := decode(sc)
	if err != nil {
		return nil, err
	}
	a := &Analytics{}
	if a.Funnel, err = s.Store.CampaignProgress(ctx, id); err != nil {
		return nil, err
	}
	if a.Estimated, err = s.Estimate(ctx, c); err != nil {
		return nil, err
	}
	card, err := s.Store.RateCard(ctx)
	if err != nil {
		return nil, err
	}
	priced, err := s.Store.CampaignPricing(ctx, id)
	if err != nil {
		return nil, err
	}
	a.Actual = ActualCost(card, priced)
	if a.Held, err = s.Store.CampaignHeld(ctx, id); err != nil {
		return nil, err
	}
	if a.OptOuts, err = s.Store.CampaignOptOuts(ctx, id, 100); err != nil {
		return nil, err
	}
	first, last, err := s.Store.CampaignSpan(ctx, id)
	if err != nil {
		return nil, err
	}
	a.Series = Series{Bucket: "minute", Points: []store.SeriesPoint{}}
	if first.IsZero() {
		return a, nil
	}
	name, w := seriesBucket(last.Sub(first))
	first = first.Truncate(w)
	pts, err := s.Store.CampaignSeries(ctx, id, first, w)
	if err != nil {
		return nil, err
	}
	n := int(last.Sub(first)/w) + 1
	if n > maxPoints { // a long tail of late reads: keep the first maxPoints buckets' worth, the rest in the last
		n = maxPoints
	}
	filled := make([]store.SeriesPoint, n)
	for i := range filled {
		filled[i].At = first.Add(time.Duration(i) * w)
	}
	for _, p := range pts {
		i := min(int(p.At.Sub(first)/w), n-1)
		filled[i].Sent += p.Sent
		filled[i].Delivered += p.Delivered
		filled[i].Read += p.Read
	}
	a.Series = Series{Bucket: name, Points: filled}
	return a, nil
}

var currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)

// SetRateCard checks and saves the rate card: one ISO 4217 currency, a
// row per known country (ISO 3166-1 alpha-2) at most once, and the
// "other" row; rates from 0 to 10 or none. A row saved without a source
// is labelled as edited by who saved it, on today's date.
func (s *Service) SetRateCard(ctx context.Context, card *store.RateCard, by string) (*store.RateCard, error) {
	card.Currency = strings.ToUpper(strings.TrimSpace(card.Currency))
	if !currencyRE.MatchString(card.Currency) {
		return nil, bad("currency", "invalid_currency", "the currency is a three-letter ISO 4217 code (USD, EUR)")
	}
	if len(card.Rates) > 300 {
		return nil, bad("rates", "too_many_rates", "at most 300 rows")
	}
	cur, err := s.Store.RateCard(ctx)
	if err != nil {
		return nil, err
	}
	old := map[string]store.Rate{}
	for _, r := range cur.Rates {
		old[r.Country] = r
	}
	known := language.Countries()
	seen := map[string]bool{}
	for i := range card.Rates {
		r := &card.Rates[i]
		r.Country = strings.TrimSpace(r.Country)
		if strings.EqualFold(r.Country, store.RateOther) {
			r.Country = store.RateOther
		} else {
			r.Country = strings.ToUpper(r.Country)
			if _, ok := slices.BinarySearch(known, r.Country); !ok {
				return nil, bad("rates", "invalid_country", "row %d: %q is not a country sendbox knows from phone numbers (IT, FR, GB) nor \"other\"", i+1, r.Country)
			}
		}
		if seen[r.Country] {
			return nil, bad("rates", "duplicate_country", "row %d: %s is on the card twice", i+1, r.Country)
		}
		seen[r.Country] = true
		for j, v := range []*float64{r.Marketing, r.Utility, r.Authentication, r.AuthenticationInternational} {
			if v != nil && (math.IsNaN(*v) || *v < 0 || *v > 10) {
				return nil, bad("rates", "invalid_rate", "row %d (%s): the %s rate is from 0 to 10 %s per message, or empty for none",
					i+1, r.Country, RateCategories[j], card.Currency)
			}
		}
		r.Source, r.SourceURL, r.AsOf = strings.TrimSpace(r.Source), strings.TrimSpace(r.SourceURL), strings.TrimSpace(r.AsOf)
		if len(r.Source) > 300 || len(r.SourceURL) > 500 {
			return nil, bad("rates", "invalid_source", "row %d (%s): the source is at most 300 characters, its link 500", i+1, r.Country)
		}
		if r.SourceURL != "" && !strings.HasPrefix(r.SourceURL, "https://") && !strings.HasPrefix(r.SourceURL, "http://") {
			return nil, bad("rates", "invalid_source", "row %d (%s): the source link is an http(s) address", i+1, r.Country)
		}
		if r.AsOf != "" {
			if _, err := time.Parse(time.DateOnly, r.AsOf); err != nil {
				return nil, bad("rates", "invalid_date", "row %d (%s): as_of is a date (2026-01-01)", i+1, r.Country)
			}
		}
		// A row whose rates change under the same source is no longer
		// what the source said: it is the editor's, from today.
		if o, ok := old[r.Country]; r.Source == "" || ok && r.Source == o.Source && !sameRates(r, &o) {
			r.Source, r.SourceURL, r.AsOf = "edited by "+by, "", s.now().In(s.loc()).Format(time.DateOnly)
		}
	}
	if !seen[store.RateOther] {
		card.Rates = append(card.Rates, store.Rate{Country: store.RateOther, Source: "no rate"})
	}
	if err := s.Store.SetRateCard(ctx, card, by); err != nil {
		return nil, err
	}
	return s.Store.RateCard(ctx)
}

// FormatMoney writes an amount with its currency, to four decimals below
// one unit (rates are fractions of a cent) and two above.
func FormatMoney(amount float64, currency string) string {
	prec := 2
	if amount != 0 && math.Abs(amount) < 1 {
		prec = 4
	}
	return strconv.FormatFloat(amount, 'f', prec, 64) + " " + currency
}

func sameRates(a, b *store.Rate) bool {
	eq := func(x, y *float64) bool {
		return x == nil && y == nil || x != nil && y != nil && math.Round(*x*1e6) == math.Round(*y*1e6)
	}
	return eq(a.Marketing, b.Marketing) && eq(a.Utility, b.Utility) && eq(a.Authentication, b.Authentication) &&
		eq(a.AuthenticationInternational, b.AuthenticationInternational)
}

package ui

import (
	"context"
	"html/template"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"sendbox/business"
	"sendbox/campaigns"
	"sendbox/store"
	"sendbox/whatsapp"
)

// The analytics section of a campaign's page: the funnel and the timeline
// as SVG charts, cost estimated and actual by the rate card, the messages
// Meta's pacing held, failures by code and opt-outs; and Settings → Rate
// card, where an admin edits the prices the cost is computed with.

type analyticsView struct {
	Funnel    template.HTML
	Series    template.HTML
	Bucket    string
	Points    []store.SeriesPoint
	Layout    string
	Est, Act  *campaigns.Cost
	EstAmount string
	ActAmount string
	Held      map[string]int
	Failed    []failRow
	OptedOut  int
	OptOuts   []store.OptOut
}

type failRow struct {
	Code string
	N    int
	Text string
}

func (p *Panel) campaignAnalytics(ctx context.Context, id int64) (*analyticsView, error) {
	an, err := p.Campaigns.Analytics(ctx, id)
	if err != nil {
		return nil, err
	}
	loc := time.UTC
	if prof, err := business.Load(ctx, p.Store); err == nil {
		loc = prof.Location()
	}
	f := an.Funnel
	v := &analyticsView{Est: an.Estimated, Act: an.Actual, Held: an.Held, OptedOut: f.OptedOut, OptOuts: an.OptOuts, Bucket: an.Series.Bucket}
	bars := []Bar{{p.T("campaigns.targeted"), f.Targeted}, {p.T("campaigns.sent"), f.Sent}, {p.T("campaigns.delivered"), f.Delivered},
		{p.T("campaigns.read"), f.Read}, {p.T("campaigns.replied"), f.Replied}, {p.T("campaigns.clicked"), f.Clicked},
		{p.T("campaigns.converted"), f.Converted}}
	var parts []string
	for _, b := range bars {
		parts = append(parts, b.Label+" "+strconv.Itoa(b.N))
	}
	id64 := strconv.FormatInt(id, 10)
	v.Funnel = FunnelSVG("funnel-"+id64, p.T("analytics.funnel_title"), strings.Join(parts, ", "), bars)
	v.Layout = map[string]string{"minute": "15:04", "hour": "2 Jan 15h", "day": "2 Jan"}[an.Series.Bucket]
	for _, pt := range an.Series.Points {
		pt.At = pt.At.In(loc)
		v.Points = append(v.Points, pt)
	}
	if len(v.Points) > 0 {
		at, lines := seriesLines(v.Points, p.T("campaigns.sent"), p.T("campaigns.delivered"), p.T("campaigns.read"))
		bucket := "analytics.bucket_" + an.Series.Bucket // minute, hour, day
		desc := p.T("analytics.series_desc", p.T(bucket), at[0].Format("2 Jan 15:04"), at[len(at)-1].Format("2 Jan 15:04"),
			f.Sent, f.Delivered, f.Read)
		v.Series = SeriesSVG("series-"+id64, p.T("analytics.series_title"), desc, at, v.Layout, lines)
	}
	if v.Est != nil {
		v.EstAmount = campaigns.FormatMoney(v.Est.Amount, v.Est.Currency)
	}
	v.ActAmount = campaigns.FormatMoney(v.Act.Amount, v.Act.Currency)
	for code, n := range f.Failed {
		c, _ := strconv.Atoi(code)
		txt := whatsapp.ErrorText(c)
		if c == 0 {
			txt = p.T("analytics.refused_before_send")
		}
		v.Failed = append(v.Failed, failRow{Code: code, N: n, Text: txt})
	}
	sort.Slice(v.Failed, func(i, j int) bool {
		return v.Failed[i].N > v.Failed[j].N || v.Failed[i].N == v.Failed[j].N && v.Failed[i].Code < v.Failed[j].Code
	})
	return v, nil
}

// rateCardView is Settings → Rate card.
type rateCardView struct {
	Section string
	Me      *store.User
	Card    *store.RateCard
	Cats    []string
	Error   string
	Saved   bool
	MetaURL string
}

func (p *Panel) rateCardPage(w http.ResponseWriter, r *http.Request, status int, card *store.RateCard, errMsg string) {
	if card == nil {
		var err error
		if card, err = p.Store.RateCard(r.Context()); err != nil {
			p.internal(w, r, err)
			return
		}
	}
	v := &rateCardView{Section: "rate-card", Me: sessionFrom(r).User, Card: card, Cats: campaigns.RateCategories, Error: errMsg,
		Saved: r.URL.Query().Get("ok") == "saved", MetaURL: store.MetaPricingURL}
	p.page(w, r, status, "ratecard", &view{Title: p.T("settings.rate-card"), Nav: "settings", Data: v})
}

func (p *Panel) handleRateCard(w http.ResponseWriter, r *http.Request) {
	p.rateCardPage(w, r, http.StatusOK, nil, "")
}

// handleRateCardSave reads the form: the currency, then per row
// country.N, the four rates (empty: none), source.N, url.N, as_of.N; a
// row with no country is dropped, and a new one is added by the empty
// last row.
func (p *Panel) handleRateCardSave(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		p.rateCardPage(w, r, http.StatusBadRequest, nil, err.Error())
		return
	}
	card := &store.RateCard{Currency: r.PostFormValue("currency")}
	for i := 0; i < 300; i++ {
		k := strconv.Itoa(i)
		if _, ok := r.PostForm["country."+k]; !ok {
			break
		}
		country := strings.TrimSpace(r.PostFormValue("country." + k))
		if country == "" {
			continue
		}
		row := store.Rate{Country: country, Source: r.PostFormValue("source." + k), SourceURL: r.PostFormValue("url." + k), AsOf: r.PostFormValue("as_of." + k)}
		for _, c := range campaigns.RateCategories {
			s := strings.TrimSpace(strings.ReplaceAll(r.PostFormValue(c+"."+k), ",", "."))
			if s == "" {
				continue
			}
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				card.Rates = append(card.Rates, row)
				p.rateCardPage(w, r, http.StatusUnprocessableEntity, card, p.T("ratecard.bad_number", s, country))
				return
			}
			switch c {
			case campaigns.CatMarketing:
				row.Marketing = &f
			case campaigns.CatUtility:
				row.Utility = &f
			case campaigns.CatAuthentication:
				row.Authentication = &f
			case campaigns.CatAuthIntl:
				row.AuthenticationInternational = &f
			}
		}
		card.Rates = append(card.Rates, row)
	}
	if _, err := p.Campaigns.SetRateCard(r.Context(), card, sessionFrom(r).User.Name); err != nil {
		if msg, ok := campaignMessage(err); ok {
			p.rateCardPage(w, r, http.StatusUnprocessableEntity, card, msg)
			return
		}
		p.internal(w, r, err)
		return
	}
	http.Redirect(w, r, "/settings/rate-card?ok=saved", http.StatusSeeOther)
}

// rateOf is a row's rate for a category, for the form ("" for none).
func rateOf(r store.Rate, cat string) string {
	var v *float64
	switch cat {
	case campaigns.CatMarketing:
		v = r.Marketing
	case campaigns.CatUtility:
		v = r.Utility
	case campaigns.CatAuthentication:
		v = r.Authentication
	case campaigns.CatAuthIntl:
		v = r.AuthenticationInternational
	}
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', -1, 64)
}

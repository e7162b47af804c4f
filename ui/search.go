package ui

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"sendbox/search"
	"sendbox/store"
)

// ParseSearch reads a search's query and filters from URL parameters; the
// API and the panel share it.
func ParseSearch(v url.Values) (search.Query, error) {
	q := search.Query{Q: v.Get("q"), Status: v.Get("status"), Direction: v.Get("direction"), MessageType: v.Get("type"),
		Sort: v.Get("sort")}
	if k := v.Get("kind"); k != "" {
		for _, kind := range strings.Split(k, ",") {
			switch kind = strings.TrimSpace(kind); kind {
			case "message", "contact":
				q.Kinds = append(q.Kinds, kind)
			default:
				return q, errors.New("kind must be message, contact or both, comma-separated")
			}
		}
	}
	ints := map[string]*int64{"contact": &q.ContactID, "conversation": &q.ConversationID, "label": &q.LabelID, "agent": &q.AgentID}
	for name, dst := range ints {
		if s := v.Get(name); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n <= 0 {
				return q, errors.New(name + " must be an id")
			}
			*dst = n
		}
	}
	for name, dst := range map[string]*int{"offset": &q.Offset, "limit": &q.Limit} {
		if s := v.Get(name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 {
				return q, errors.New(name + " must be a non-negative number")
			}
			*dst = n
		}
	}
	if q.Offset > 10000 {
		return q, errors.New("offset goes up to 10000: narrow the search instead")
	}
	var err error
	if q.From, err = parseDate(v.Get("from"), false); err != nil {
		return q, errors.New("from must be a date (2026-03-01) or an RFC 3339 time")
	}
	if q.To, err = parseDate(v.Get("to"), true); err != nil {
		return q, errors.New("to must be a date (2026-03-31) or an RFC 3339 time")
	}
	switch q.Sort {
	case "", "relevance", "date":
	default:
		return q, errors.New("sort must be relevance or date")
	}
	switch q.Direction {
	case "", store.Inbound, store.Outbound:
	default:
		return q, errors.New("direction must be inbound or outbound")
	}
	switch q.Status {
	case "", "open", "pending", "snoozed", "resolved":
	default:
		return q, errors.New("status must be open, pending, snoozed or resolved")
	}
	q.Facets = v.Get("facets") == "1" || v.Get("facets") == "true"
	return q, nil
}

// parseDate accepts a day (its start, or its end for an upper bound) or an
// RFC 3339 time.
func parseDate(s string, end bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	t, err := time.ParseInLocation("2006-01-02", s, time.Local)
	if err != nil {
		return time.Time{}, err
	}
	if end {
		t = t.AddDate(0, 0, 1).Add(-time.Nanosecond)
	}
	return t, nil
}

// ParseQuery reads a search from the request's URL.
func (p *Panel) ParseQuery(r *http.Request) (search.Query, error) { return ParseSearch(r.URL.Query()) }

// resultView is one search result as the panel shows it.
type resultView struct {
	Kind           string
	ConversationID int64
	MessageID      int64
	Contact        *store.Contact
	At             time.Time
	Direction      string
	Type           string
	Snippet        []search.Piece
}

type searchView struct {
	Params  url.Values
	Query   search.Query
	Results []resultView
	Total   uint64
	Took    time.Duration
	Facets  map[string][]search.FacetCount
	Labels  []store.Label
	Users   []store.User
	Prev    string
	Next    string
	Status  indexStatus
	Error   string
	Keep    string
}

type indexStatus struct {
	Pending uint64
	Last    time.Time
}

// results runs a search and loads what it shows.
func (p *Panel) results(r *http.Request, q search.Query) ([]resultView, *search.Result, error) {
	res, err := p.Search.Search(r.Context(), q)
	if err != nil {
		return nil, nil, err
	}
	contacts := map[int64]*store.Contact{}
	contact := func(id int64) *store.Contact {
		if c, ok := contacts[id]; ok {
			return c
		}
		c, _ := p.Store.ContactByID(r.Context(), id)
		contacts[id] = c
		return c
	}
	var out []resultView
	for _, h := range res.Hits {
		switch h.Kind {
		case "message":
			m, err := p.Store.MessageByID(r.Context(), h.ID)
			if err != nil {
				continue // deleted since it was indexed
			}
			c := contact(m.ContactID)
			if c == nil {
				continue
			}
			out = append(out, resultView{Kind: "message", ConversationID: m.ConversationID, MessageID: m.ID, Contact: c,
				At: m.Timestamp, Direction: m.Direction, Type: m.Type,
				Snippet: search.Fragment(m.Text, p.Search.Highlight(q.Q, m.Text), 160)})
		case "contact":
			if c := contact(h.ID); c != nil {
				rv := resultView{Kind: "contact", Contact: c}
				name := displayName(c)
				rv.Snippet = search.Fragment(name, p.Search.HighlightName(q.Q, name), 80)
				if convs, _, _, err := p.Store.ListConversations(r.Context(), store.ConversationFilter{ContactID: c.ID, Limit: 1}); err == nil && len(convs) > 0 {
					rv.ConversationID = convs[0].ID
				}
				out = append(out, rv)
			}
		}
	}
	return out, res, nil
}

// handleSearch is the search page: words, phrases, filters, facets.
func (p *Panel) handleSearch(w http.ResponseWriter, r *http.Request) {
	v := &searchView{Params: r.URL.Query(), Status: p.indexStatus()}
	q, err := p.ParseQuery(r)
	if err != nil {
		v.Error = err.Error()
	}
	q.Facets = true
	if q.Limit == 0 {
		q.Limit = 20
	}
	v.Query = q
	if v.Labels, err = p.Store.ListLabels(r.Context()); err != nil {
		p.internal(w, r, err)
		return
	}
	if v.Users, err = p.Store.ListUsers(r.Context()); err != nil {
		p.internal(w, r, err)
		return
	}
	if v.Error == "" && (q.Q != "" || r.URL.Query().Has("q")) {
		var res *search.Result
		v.Results, res, err = p.results(r, q)
		if err != nil {
			p.internal(w, r, err)
			return
		}
		v.Total, v.Took, v.Facets = res.Total, res.Took, res.Facets
		page := func(off int) string {
			u := r.URL.Query()
			u.Set("offset", strconv.Itoa(off))
			return "/search?" + u.Encode()
		}
		if q.Offset > 0 {
			v.Prev = page(max(0, q.Offset-q.Limit))
		}
		if uint64(q.Offset+q.Limit) < res.Total {
			v.Next = page(q.Offset + q.Limit)
		}
	}
	p.page(w, r, http.StatusOK, "search", &view{Title: p.T("search.title"), Nav: "search", Data: v})
}

func (p *Panel) indexStatus() indexStatus {
	if p.IndexStatus == nil {
		return indexStatus{}
	}
	pending, last := p.IndexStatus()
	return indexStatus{Pending: pending, Last: last}
}

// facetURL is the search with one more filter: the facet's term.
func facetURL(params url.Values, facet, term string) string {
	u := url.Values{}
	for k, v := range params {
		u[k] = append([]string(nil), v...)
	}
	u.Del("offset")
	today := time.Now()
	day := func(d int) string { return today.AddDate(0, 0, d).Format("2006-01-02") }
	switch facet {
	case search.FacetType:
		u.Set("type", term)
	case search.FacetDirection:
		u.Set("direction", term)
	case search.FacetStatus:
		u.Set("status", term)
	case search.FacetLabel:
		u.Set("label", term)
	case search.FacetDate:
		switch term {
		case "7d":
			u.Set("from", day(-6))
		case "30d":
			u.Set("from", day(-29))
		default:
			u.Set("to", day(-30))
		}
	}
	return "/search?" + u.Encode()
}

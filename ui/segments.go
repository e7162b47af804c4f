package ui

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"sendbox/accounts"
	"sendbox/language"
	"sendbox/store"
)

// Segments live under Contacts: a segment is a saved way of picking
// contacts, and the people who build one are looking at contacts. The
// rule builder is a form whose inputs name each node of the rule by its
// path ("r", "r.0", "r.0.2"): adding, removing or changing a condition
// posts the form and the server draws the builder again (htmx swaps it;
// without JavaScript the whole page comes back), and any change posts the
// form for the live count.

// segNode is a node of the rule as the builder draws it.
type segNode struct {
	Path     string // "r", "r.0", "r.0.1"
	ID       string // the path for HTML ids: "seg-r-0-1"
	Root     bool
	Group    string // and, or, not; "" for a condition
	Children []segNode
	Rule     store.SegmentRule // a condition's field, op and operands
	Error    string            // the store's refusal of this node
	// What the condition's field asks for.
	Ops                                     []string
	NeedKey, NeedValue, NeedDays, NeedCount bool
	NeedFlow, NeedCampaign                  bool
	ValueType                               string   // text, number, date
	Choices                                 []string // the value is one of these (consent, country, language)
	Suggest                                 string   // the id of a datalist of values the value may take
	// Ed is the editor, for the lists every node's inputs offer.
	Ed *segEditor
}

// attach gives every node of the tree its editor.
func (n *segNode) attach(v *segEditor) {
	n.Ed = v
	for i := range n.Children {
		n.Children[i].attach(v)
	}
}

// segEditor is the segment page: the list's editor, new or saved.
type segEditor struct {
	Segment   *store.Segment // nil: a new segment
	Name      string
	Kind      string
	Root      segNode
	Error     string
	CanEdit   bool
	Fields    []string
	Flows     []store.Flow
	Tags      []string
	Labels    []string
	Outcomes  []string
	Live      *segLive
	FormPath  string // where the form posts
	FrozenNow int    // a frozen segment's members
	// InUse are the campaigns that keep the segment from being deleted.
	InUse []store.SegmentUser
}

// segLive is the live count and the first members of the rule as edited.
type segLive struct {
	Count   int
	Preview []store.Contact
	More    int // members not in the preview
	Error   string
}

// The list of segments draws at once and counts each segment's members
// in a request of its own (htmx, on load): a count over 100,000 contacts
// takes tens of milliseconds, and a list of forty segments counted before
// the page was drawn took seconds. Counts are kept segCountTTL and shown
// with their age once a minute old; the segment's own page counts live.
const segCountTTL = 3 * time.Minute

// segCount is a segment's member count as the list shows it.
type segCount struct {
	ID      int64
	N       int
	At      time.Time // when it was counted
	Old     bool      // at least a minute old: the list says when it was counted
	Err     bool      // a rule that no longer compiles (campaigns missing): shown, not fatal
	updated time.Time // the segment's updated_at it was counted for
}

// segCounts are the counts the list showed lately, by segment.
type segCounts struct {
	mu sync.Mutex
	m  map[int64]segCount
}

// segmentCount is a segment's count for the list: a count under
// segCountTTL old of the segment as it is now (saved or frozen since: no),
// else counted now.
func (p *Panel) segmentCount(ctx context.Context, g *store.Segment) segCount {
	now := time.Now()
	p.segCounts.mu.Lock()
	c, ok := p.segCounts.m[g.ID]
	p.segCounts.mu.Unlock()
	if ok && c.updated.Equal(g.UpdatedAt) && now.Sub(c.At) < segCountTTL {
		c.Old = now.Sub(c.At) >= time.Minute
		return c
	}
	c = segCount{ID: g.ID, At: now, updated: g.UpdatedAt}
	n, err := p.Store.SegmentSize(ctx, g)
	if err != nil {
		c.Err = true
		return c
	}
	c.N = n
	p.segCounts.mu.Lock()
	defer p.segCounts.mu.Unlock()
	if p.segCounts.m == nil || len(p.segCounts.m) > 10000 {
		p.segCounts.m = map[int64]segCount{}
	}
	p.segCounts.m[g.ID] = c
	return c
}

func (p *Panel) handleSegments(w http.ResponseWriter, r *http.Request) {
	all, err := p.Store.ListSegments(r.Context())
	if err != nil {
		p.internal(w, r, err)
		return
	}
	p.page(w, r, http.StatusOK, "segments", &view{Title: p.T("segments.title"), Nav: "contacts", Data: all})
}

// handleSegmentListCount is a row's count in the list of segments.
func (p *Panel) handleSegmentListCount(w http.ResponseWriter, r *http.Request) {
	g, ok := p.segmentOf(w, r)
	if !ok {
		return
	}
	p.fragment(w, r, "segments", "segment-count", p.segmentCount(r.Context(), g))
}

// newSegmentRule is what a new segment starts with: one empty condition.
var newSegmentRule = store.SegmentRule{Group: store.GroupAnd, Rules: []store.SegmentRule{{Field: store.FieldTag, Op: "has"}}}

func (p *Panel) handleSegmentNew(w http.ResponseWriter, r *http.Request) {
	p.segmentPage(w, r, http.StatusOK, &segEditor{Kind: store.SegmentDynamic}, newSegmentRule)
}

func (p *Panel) segmentOf(w http.ResponseWriter, r *http.Request) (*store.Segment, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		p.fail(w, r, http.StatusNotFound, p.T("segments.not_found"))
		return nil, false
	}
	g, err := p.Store.SegmentByID(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		p.fail(w, r, http.StatusNotFound, p.T("segments.not_found"))
		return nil, false
	}
	if err != nil {
		p.internal(w, r, err)
		return nil, false
	}
	return g, true
}

func (p *Panel) handleSegment(w http.ResponseWriter, r *http.Request) {
	g, ok := p.segmentOf(w, r)
	if !ok {
		return
	}
	p.segmentPage(w, r, http.StatusOK, &segEditor{Segment: g, Name: g.Name, Kind: g.Kind}, g.Rule)
}

// segmentPage fills what the editor shows around the rule and draws it.
func (p *Panel) segmentPage(w http.ResponseWriter, r *http.Request, status int, v *segEditor, rule store.SegmentRule) {
	if err := p.fillEditor(r, v, rule); err != nil {
		p.internal(w, r, err)
		return
	}
	title := p.T("segments.new")
	if v.Segment != nil {
		title = v.Segment.Name
	}
	p.page(w, r, status, "segment", &view{Title: title, Nav: "contacts", Data: v})
}

func (p *Panel) fillEditor(r *http.Request, v *segEditor, rule store.SegmentRule) error {
	ctx := r.Context()
	s := sessionFrom(r)
	v.CanEdit = s != nil && accounts.Can(s.User.Role, accounts.Admin)
	v.FormPath = "/segments/new"
	if v.Segment != nil {
		v.FormPath = "/segments/" + strconv.FormatInt(v.Segment.ID, 10)
		if v.Segment.Kind == store.SegmentFrozen {
			v.FrozenNow, _ = p.Store.SegmentSize(ctx, v.Segment)
		}
	}
	for _, f := range store.SegmentFields {
		v.Fields = append(v.Fields, f.Field)
	}
	var err error
	if v.Flows, err = p.Store.Flows(ctx); err != nil {
		return err
	}
	tags, err := p.Store.AllTags(ctx)
	if err != nil {
		return err
	}
	for t := range tags {
		v.Tags = append(v.Tags, t)
	}
	sort.Strings(v.Tags)
	labels, err := p.Store.ListLabels(ctx)
	if err != nil {
		return err
	}
	for _, l := range labels {
		v.Labels = append(v.Labels, l.Name)
	}
	v.Outcomes = []string{"completed", "no_answer", "handed_off", "stopped", "exited", "broken"}
	v.Root = segTree(rule, "r", "", "")
	v.Root.attach(v)
	if v.Live == nil {
		v.Live = p.segLive(r, rule)
	}
	return nil
}

// segPath turns a builder path ("r.1.0") into the store's ("rules[1].rules[0]").
func segPath(path string) string {
	parts := strings.Split(path, ".")[1:]
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = "rules[" + p + "]"
	}
	return strings.Join(out, ".")
}

// segTree is the builder's tree of a rule; the node at the store path
// errPath carries errMsg.
func segTree(rule store.SegmentRule, path, errPath, errMsg string) segNode {
	n := segNode{Path: path, ID: "seg-" + strings.ReplaceAll(path, ".", "-"), Root: path == "r", Group: rule.Group, Rule: rule}
	if n.Root && rule.Group == "" {
		// The builder's root is always a group.
		n.Group = store.GroupAnd
		if rule.Field != "" {
			n.Children = []segNode{segTree(rule, "r.0", errPath, errMsg)}
		}
		return n
	}
	if errMsg != "" && segPath(path) == errPath {
		n.Error = errMsg
	}
	if n.Group != "" {
		for i, c := range rule.Rules {
			n.Children = append(n.Children, segTree(c, path+"."+strconv.Itoa(i), errPath, errMsg))
		}
		return n
	}
	n.Ops = store.SegmentOps(rule.Field)
	n.ValueType = "text"
	switch rule.Field {
	case store.FieldAttribute:
		n.NeedKey = true
		switch rule.Op {
		case "exists":
		case "within_days":
			n.NeedDays = true
		case "lt", "gt":
			n.NeedValue, n.ValueType = true, "number"
		case "before", "after":
			n.NeedValue, n.ValueType = true, "date"
		default:
			n.NeedValue = true
		}
	case store.FieldTag:
		n.NeedValue, n.Suggest = true, "seg-tags"
	case store.FieldLabel:
		n.NeedValue, n.Suggest = true, "seg-labels"
	case store.FieldConsent:
		n.Choices = []string{store.ConsentOptedIn, store.ConsentOptedOut, store.ConsentUnknown}
	case store.FieldCountry:
		n.Choices = language.Countries()
	case store.FieldLanguage:
		n.Choices = language.Langs
	case store.FieldLastInbound:
		n.NeedDays = true
	case store.FieldEvent:
		n.NeedKey, n.NeedDays, n.NeedCount = true, true, true
	case store.FieldFlow:
		n.NeedFlow = true
		if rule.Op == "ended_with" {
			n.NeedValue, n.Suggest = true, "seg-outcomes"
		}
	case store.FieldCampaign:
		n.NeedCampaign, n.NeedDays = true, true
	}
	return n
}

// segFromForm reads the rule the builder's form holds.
func segFromForm(form url.Values) store.SegmentRule {
	var paths []string
	for k := range form {
		if p, ok := strings.CutSuffix(k, ":kind"); ok && (p == "r" || strings.HasPrefix(p, "r.")) {
			paths = append(paths, p)
		}
	}
	// Children in the order of their numbers, parents before children.
	slices.SortFunc(paths, func(a, b string) int {
		as, bs := strings.Split(a, "."), strings.Split(b, ".")
		for i := 1; i < len(as) && i < len(bs); i++ {
			x, _ := strconv.Atoi(as[i])
			y, _ := strconv.Atoi(bs[i])
			if x != y {
				return x - y
			}
		}
		return len(as) - len(bs)
	})
	return rebuild(form, paths)
}

// rebuild assembles the tree of the sorted paths from the root down.
func rebuild(form url.Values, paths []string) store.SegmentRule {
	kids := map[string][]string{}
	for _, p := range paths {
		if p == "r" {
			continue
		}
		parent := p[:strings.LastIndex(p, ".")]
		kids[parent] = append(kids[parent], p)
	}
	var build func(p string, depth int) store.SegmentRule
	build = func(p string, depth int) store.SegmentRule {
		get := func(m string) string { return strings.TrimSpace(form.Get(p + ":" + m)) }
		num := func(m string) int { n, _ := strconv.Atoi(get(m)); return n }
		var n store.SegmentRule
		if get("kind") == "group" {
			n.Group = get("group")
			if depth < 10 {
				for _, k := range kids[p] {
					n.Rules = append(n.Rules, build(k, depth+1))
				}
			}
			return n
		}
		n.Field, n.Op, n.Key, n.Value = get("field"), get("op"), get("key"), get("value")
		n.Days, n.Count = num("days"), num("count")
		n.FlowID, _ = strconv.ParseInt(get("flow_id"), 10, 64)
		n.CampaignID, _ = strconv.ParseInt(get("campaign_id"), 10, 64)
		segNormalize(&n)
		return n
	}
	if form.Get("r:kind") == "" {
		return store.SegmentRule{}
	}
	return build("r", 0)
}

// segNormalize fits a condition whose field just changed: an operator or
// a value of another field means nothing, and the builder shows defaults
// (the first choice, 30 days) the rule must then hold too.
func segNormalize(n *store.SegmentRule) {
	if ops := store.SegmentOps(n.Field); ops != nil && !slices.Contains(ops, n.Op) {
		n.Op = ops[0]
	}
	var choices []string
	switch n.Field {
	case store.FieldConsent:
		choices = []string{store.ConsentOptedIn, store.ConsentOptedOut, store.ConsentUnknown}
	case store.FieldCountry:
		choices = language.Countries()
	case store.FieldLanguage:
		choices = language.Langs
	}
	if choices != nil && !slices.Contains(choices, n.Value) {
		n.Value = choices[0]
	}
	if n.Days == 0 && (n.Field == store.FieldLastInbound || n.Field == store.FieldAttribute && n.Op == "within_days") {
		n.Days = 30
	}
}

// segAction applies a builder button: add a condition or a group to the
// group at a path, or remove the node at a path.
func segAction(rule store.SegmentRule, action string) store.SegmentRule {
	verb, path, _ := strings.Cut(action, ":")
	rule = segClone(rule)
	if rule.Group == "" {
		rule = store.SegmentRule{Group: store.GroupAnd}
	}
	var walk func(n *store.SegmentRule, p string) bool
	walk = func(n *store.SegmentRule, p string) bool {
		if p == path {
			switch verb {
			case "add":
				n.Rules = append(n.Rules, store.SegmentRule{Field: store.FieldTag, Op: "has"})
			case "group":
				n.Rules = append(n.Rules, store.SegmentRule{Group: store.GroupOr, Rules: []store.SegmentRule{{Field: store.FieldTag, Op: "has"}}})
			}
			return true
		}
		for i := range n.Rules {
			cp := p + "." + strconv.Itoa(i)
			if verb == "remove" && cp == path {
				n.Rules = slices.Delete(n.Rules, i, i+1)
				return true
			}
			if walk(&n.Rules[i], cp) {
				return true
			}
		}
		return false
	}
	walk(&rule, "r")
	return rule
}

// segClone copies a rule deep, so that changing it leaves the caller's alone.
func segClone(r store.SegmentRule) store.SegmentRule {
	if r.Rules != nil {
		kids := make([]store.SegmentRule, len(r.Rules))
		for i, c := range r.Rules {
			kids[i] = segClone(c)
		}
		r.Rules = kids
	}
	return r
}

// handleSegmentBuilder draws the builder again after a change of its shape
// (a field chosen, a condition added or removed), with the live count.
func (p *Panel) handleSegmentBuilder(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	rule := segFromForm(r.PostForm)
	if a := r.PostForm.Get("action"); a != "" {
		rule = segAction(rule, a)
	}
	v := &segEditor{}
	if err := p.fillEditor(r, v, rule); err != nil {
		p.internal(w, r, err)
		return
	}
	p.fragment(w, r, "segment", "segment-builder-oob", v)
}

// handleSegmentLive answers the live count and the first members of the
// rule in the form.
func (p *Panel) handleSegmentLive(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	p.fragment(w, r, "segment", "segment-live", p.segLive(r, segFromForm(r.PostForm)))
}

func (p *Panel) segLive(r *http.Request, rule store.SegmentRule) *segLive {
	l := &segLive{}
	cs, total, _, err := p.Store.RuleContacts(r.Context(), rule, 0, 10)
	var se *store.SegmentError
	switch {
	case errors.As(err, &se):
		l.Error = se.Message
	case err != nil:
		l.Error = p.T("segments.count_failed")
	default:
		l.Count, l.Preview, l.More = total, cs, total-len(cs)
	}
	return l
}

// handleSegmentSave creates or saves a segment; a builder button pressed
// without JavaScript draws the page again with the change instead.
func (p *Panel) handleSegmentSave(w http.ResponseWriter, r *http.Request) {
	var g *store.Segment
	if r.PathValue("id") != "" {
		var ok bool
		if g, ok = p.segmentOf(w, r); !ok {
			return
		}
	}
	r.ParseForm()
	rule := segFromForm(r.PostForm)
	v := &segEditor{Segment: g, Name: r.PostForm.Get("name"), Kind: r.PostForm.Get("kind")}
	if a := r.PostForm.Get("action"); a != "" {
		p.segmentPage(w, r, http.StatusOK, v, segAction(rule, a))
		return
	}
	in := store.SegmentInput{Name: v.Name, Kind: v.Kind, Rule: rule}
	var err error
	var saved *store.Segment
	if g == nil {
		saved, err = p.Store.CreateSegment(r.Context(), in)
	} else {
		saved, err = p.Store.UpdateSegment(r.Context(), g.ID, in)
	}
	var se *store.SegmentError
	switch {
	case errors.As(err, &se):
		// A rule's error is shown at its node, a name's or kind's at the top.
		ruleErr := se.Path != "" || (se.Field != "name" && se.Field != "kind")
		v.Error = se.Message
		if ruleErr {
			v.Error = p.T("segments.rule_error")
		}
		if err := p.fillEditor(r, v, rule); err != nil {
			p.internal(w, r, err)
			return
		}
		if ruleErr {
			v.Root = segTree(rule, "r", se.Path, se.Message)
			v.Root.attach(v)
		}
		p.page(w, r, http.StatusUnprocessableEntity, "segment", &view{Title: p.T("segments.new"), Nav: "contacts", Data: v})
		return
	case errors.Is(err, store.ErrSegmentName):
		v.Error = p.T("segments.name_taken")
		p.segmentPage(w, r, http.StatusConflict, v, rule)
		return
	case err != nil:
		p.internal(w, r, err)
		return
	}
	http.Redirect(w, r, "/segments/"+strconv.FormatInt(saved.ID, 10)+"?ok=saved", http.StatusSeeOther)
}

func (p *Panel) handleSegmentFreeze(w http.ResponseWriter, r *http.Request) {
	g, ok := p.segmentOf(w, r)
	if !ok {
		return
	}
	if _, err := p.Store.FreezeSegment(r.Context(), g.ID); err != nil {
		var se *store.SegmentError
		if errors.As(err, &se) {
			p.segmentPage(w, r, http.StatusUnprocessableEntity, &segEditor{Segment: g, Name: g.Name, Kind: g.Kind, Error: se.Message}, g.Rule)
			return
		}
		p.internal(w, r, err)
		return
	}
	http.Redirect(w, r, "/segments/"+strconv.FormatInt(g.ID, 10)+"?ok=segment_frozen", http.StatusSeeOther)
}

func (p *Panel) handleSegmentDelete(w http.ResponseWriter, r *http.Request) {
	g, ok := p.segmentOf(w, r)
	if !ok {
		return
	}
	err := p.Store.DeleteSegment(r.Context(), g.ID)
	var inUse *store.SegmentInUseError
	switch {
	case errors.As(err, &inUse):
		// Said on the segment's page, with the campaigns to cancel first.
		p.segmentPage(w, r, http.StatusConflict, &segEditor{Segment: g, Name: g.Name, Kind: g.Kind,
			Error: p.T("segments.in_use"), InUse: inUse.Campaigns}, g.Rule)
		return
	case err != nil && !errors.Is(err, store.ErrNotFound):
		p.internal(w, r, err)
		return
	}
	http.Redirect(w, r, "/segments?ok=deleted", http.StatusSeeOther)
}

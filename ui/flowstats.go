package ui

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"sendbox/flows"
	"sendbox/store"
)

// flowStatsView is a flow version's analytics: the figures, the outcomes
// and the funnel of its steps.
type flowStatsView struct {
	Flow       *flows.Flow
	Version    int // 0: every version
	Versions   []store.FlowVersion
	Stats      *flows.Stats
	Outcomes   []outcomeRow
	Conversion string
	Funnel     funnel
}

type outcomeRow struct {
	Outcome string
	Runs    int
	Share   string
}

// funnel is the SVG bar chart of the steps, laid out here so that the
// template only places what was measured.
type funnel struct {
	Bars          []funnelBar
	Width, Height int
	LabelW, BarW  int
	LabelX        int // where the steps' names end
}

// funnelBar is one step: how many runs entered it, how many wait there
// now, and where customers stopped: the runs that ended here without an
// outcome (drawn at the right end of the bar, as they left the funnel),
// and those stuck here waiting for a reply (within the waiting ones).
type funnelBar struct {
	Step             string
	Entered, Waiting int
	Ended, Stuck     int
	Median           string
	Y, W, WaitW      int
	EndX, EndW       int
	StuckW           int
	TextY, NumX      int
}

// Funnel geometry, in SVG units.
const (
	funnelLabelW = 150
	funnelBarW   = 420
	funnelRowH   = 30
	funnelBarH   = 20
)

func makeFunnel(steps []store.FlowStepCount) funnel {
	f := funnel{LabelW: funnelLabelW, BarW: funnelBarW, LabelX: funnelLabelW - 10, Width: funnelLabelW + funnelBarW + 250, Height: len(steps)*funnelRowH + 6}
	top := 0
	for _, s := range steps {
		top = max(top, s.Entered)
	}
	for i, s := range steps {
		b := funnelBar{Step: s.Step, Entered: s.Entered, Waiting: s.Waiting, Ended: s.EndedHere, Stuck: s.StuckHere,
			Median: medianText(s.MedianMS), Y: i*funnelRowH + 4, TextY: i*funnelRowH + 4 + funnelBarH/2 + 5}
		if top > 0 {
			b.W = max(2, s.Entered*funnelBarW/top)
			if s.Waiting > 0 {
				b.WaitW = max(2, s.Waiting*funnelBarW/top)
			}
			if s.StuckHere > 0 {
				b.StuckW = min(max(2, s.StuckHere*funnelBarW/top), max(b.WaitW, 2))
			}
			if s.EndedHere > 0 {
				b.EndW = min(max(2, s.EndedHere*funnelBarW/top), b.W)
				b.EndX = funnelLabelW + b.W - b.EndW
			}
		}
		b.NumX = funnelLabelW + b.W + 8
		f.Bars = append(f.Bars, b)
	}
	return f
}

// medianText is a step's median time, in the unit that reads best.
func medianText(ms int64) string {
	d := time.Duration(ms) * time.Millisecond
	switch {
	case ms <= 0:
		return "–"
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()+0.5))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()+0.5))
	case d < 48*time.Hour:
		return fmt.Sprintf("%.1f h", d.Hours())
	}
	return fmt.Sprintf("%.1f d", d.Hours()/24)
}

func (p *Panel) handleFlowStats(w http.ResponseWriter, r *http.Request) {
	f, ok := p.flowOf(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	v := &flowStatsView{Flow: f}
	var err error
	if v.Versions, err = p.Store.FlowVersions(ctx, f.ID); err != nil {
		p.internal(w, r, err)
		return
	}
	if q := r.URL.Query().Get("version"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || (n != 0 && !slices.ContainsFunc(v.Versions, func(x store.FlowVersion) bool { return x.Version == n })) {
			p.fail(w, r, http.StatusNotFound, p.T("flows.no_such_version"))
			return
		}
		v.Version = n
	}
	if v.Stats, err = p.Flows.Stats(ctx, f.ID, v.Version); err != nil {
		p.internal(w, r, err)
		return
	}
	ended := 0
	for _, n := range v.Stats.Outcomes {
		ended += n
	}
	for o, n := range v.Stats.Outcomes {
		v.Outcomes = append(v.Outcomes, outcomeRow{Outcome: o, Runs: n, Share: percent(n, ended)})
	}
	slices.SortFunc(v.Outcomes, func(a, b outcomeRow) int {
		return cmp.Or(cmp.Compare(b.Runs, a.Runs), cmp.Compare(a.Outcome, b.Outcome))
	})
	v.Conversion = fmt.Sprintf("%.0f%%", v.Stats.Conversion*100)
	v.Funnel = makeFunnel(v.Stats.Steps)
	p.page(w, r, http.StatusOK, "flowstats", &view{Title: f.Name + " · " + p.T("flows.stats"), Nav: "flows", Data: v})
}

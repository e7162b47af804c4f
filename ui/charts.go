package ui

import (
	"fmt"
	"html/template"
	"strconv"
	"strings"
	"time"

	"sendbox/store"
)

// Charts drawn on the server as SVG, no JavaScript: each has a title and
// a description (role="img", aria-labelledby) and its figures as text, so
// a screen reader, a printout and a browser without styles all read them.

// chartText escapes text for an SVG element or attribute.
func chartText(s string) string { return template.HTMLEscapeString(s) }

// Bar is one bar of a horizontal bar chart.
type Bar struct {
	Label string
	N     int
}

// Funnel geometry: a label column, the bars, their figures after them.
const (
	chartFunnelW = 640
	chartLabelW  = 130
	chartBarW    = 400
	chartRowH    = 30
	chartBarH    = 20
)

// FunnelSVG draws bars proportional to the first (the whole), each with
// its count and its share of the first; id makes the title's and the
// description's ids unique on the page.
func FunnelSVG(id, title, desc string, bars []Bar) template.HTML {
	whole := 0
	if len(bars) > 0 {
		whole = bars[0].N
	}
	for _, b := range bars {
		whole = max(whole, b.N)
	}
	h := chartRowH*len(bars) + 10
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-funnel" role="img" width="100%%" viewBox="0 0 %d %d" aria-labelledby="%s-t %s-d">`,
		chartFunnelW, h, id, id)
	fmt.Fprintf(&sb, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, id, chartText(title), id, chartText(desc))
	for i, b := range bars {
		y := 5 + i*chartRowH
		w := 0.0
		if whole > 0 {
			w = float64(chartBarW) * float64(b.N) / float64(whole)
		}
		pct := ""
		if bars[0].N > 0 && i > 0 {
			pct = fmt.Sprintf(" (%s%%)", strconv.FormatFloat(100*float64(b.N)/float64(bars[0].N), 'f', 1, 64))
		}
		fmt.Fprintf(&sb, `<g class="bar"><text x="%d" y="%d" text-anchor="end" class="chart-label">%s</text>`,
			chartLabelW-8, y+chartBarH/2+5, chartText(b.Label))
		fmt.Fprintf(&sb, `<rect x="%d" y="%d" width="%s" height="%d" rx="3" class="chart-bar chart-bar-%d" fill="currentColor" fill-opacity="%s"><title>%s: %d%s</title></rect>`,
			chartLabelW, y, strconv.FormatFloat(w, 'f', 2, 64), chartBarH, i, opacity(i, len(bars)), chartText(b.Label), b.N, pct)
		fmt.Fprintf(&sb, `<text x="%s" y="%d" class="chart-value">%d%s</text></g>`,
			strconv.FormatFloat(float64(chartLabelW)+w+6, 'f', 2, 64), y+chartBarH/2+5, b.N, chartText(pct))
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String())
}

func opacity(i, n int) string {
	return strconv.FormatFloat(1-0.5*float64(i)/float64(max(n, 1)), 'f', 2, 64)
}

// Series geometry.
const (
	seriesW, seriesH   = 640, 240
	seriesL, seriesR   = 48, 12
	seriesT, seriesB   = 28, 36
	seriesPlotW        = seriesW - seriesL - seriesR
	seriesPlotH        = seriesH - seriesT - seriesB
	seriesMaxTickLabel = 6
)

// SeriesLine is one line of a time series chart.
type SeriesLine struct {
	Label  string
	Values []int
	Dash   string // stroke-dasharray, to tell lines apart without colour
}

// SeriesSVG draws lines over the buckets at (one value per bucket per
// line), with the axis' top value, the first and last times and a legend.
func SeriesSVG(id, title, desc string, at []time.Time, layout string, lines []SeriesLine) template.HTML {
	top := 0
	for _, l := range lines {
		for _, v := range l.Values {
			top = max(top, v)
		}
	}
	if top == 0 {
		top = 1
	}
	x := func(i int) float64 {
		if len(at) <= 1 {
			return seriesL + seriesPlotW/2
		}
		return seriesL + float64(seriesPlotW)*float64(i)/float64(len(at)-1)
	}
	y := func(v int) float64 { return seriesT + float64(seriesPlotH)*(1-float64(v)/float64(top)) }
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-series" role="img" width="100%%" viewBox="0 0 %d %d" aria-labelledby="%s-t %s-d">`,
		seriesW, seriesH, id, id)
	fmt.Fprintf(&sb, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, id, chartText(title), id, chartText(desc))
	// Axes, the top value and the zero.
	fmt.Fprintf(&sb, `<g class="chart-axis" stroke="currentColor" stroke-opacity="0.4"><line x1="%d" y1="%d" x2="%d" y2="%d"/><line x1="%d" y1="%d" x2="%d" y2="%d"/></g>`,
		seriesL, seriesT, seriesL, seriesT+seriesPlotH, seriesL, seriesT+seriesPlotH, seriesL+seriesPlotW, seriesT+seriesPlotH)
	fmt.Fprintf(&sb, `<text x="%d" y="%d" text-anchor="end" class="chart-label">%d</text><text x="%d" y="%d" text-anchor="end" class="chart-label">0</text>`,
		seriesL-6, seriesT+4, top, seriesL-6, seriesT+seriesPlotH+4)
	// Time labels: a few, evenly spread.
	if len(at) > 0 {
		step := max(1, (len(at)+seriesMaxTickLabel-1)/seriesMaxTickLabel)
		for i := 0; i < len(at); i += step {
			fmt.Fprintf(&sb, `<text x="%s" y="%d" text-anchor="middle" class="chart-label">%s</text>`, f(x(i)), seriesH-seriesB+18, chartText(at[i].Format(layout)))
		}
	}
	for k, l := range lines {
		var pts []string
		for i, v := range l.Values {
			pts = append(pts, f(x(i))+","+f(y(v)))
		}
		dash := ""
		if l.Dash != "" {
			dash = ` stroke-dasharray="` + chartText(l.Dash) + `"`
		}
		fmt.Fprintf(&sb, `<g class="chart-line chart-line-%d"><title>%s</title>`, k, chartText(l.Label))
		if len(pts) > 1 {
			fmt.Fprintf(&sb, `<polyline fill="none" stroke="currentColor" stroke-width="2" stroke-opacity="%s"%s points="%s"/>`, opacity(k, len(lines)), dash, strings.Join(pts, " "))
		}
		for i, v := range l.Values {
			fmt.Fprintf(&sb, `<circle cx="%s" cy="%s" r="2.5" fill="currentColor" fill-opacity="%s"><title>%s %s: %d</title></circle>`,
				f(x(i)), f(y(v)), opacity(k, len(lines)), chartText(l.Label), chartText(at[i].Format(layout)), v)
		}
		sb.WriteString(`</g>`)
		// Legend, top left, one after the other.
		lx := seriesL + 8 + k*150
		fmt.Fprintf(&sb, `<g class="chart-legend"><line x1="%d" y1="12" x2="%d" y2="12" stroke="currentColor" stroke-width="2" stroke-opacity="%s"%s/><text x="%d" y="16" class="chart-label">%s</text></g>`,
			lx, lx+20, opacity(k, len(lines)), dash, lx+26, chartText(l.Label))
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String())
}

// seriesLines splits a campaign's timeline into the chart's three lines.
func seriesLines(pts []store.SeriesPoint, sent, delivered, read string) ([]time.Time, []SeriesLine) {
	at := make([]time.Time, len(pts))
	ls := []SeriesLine{{Label: sent}, {Label: delivered, Dash: "6 3"}, {Label: read, Dash: "2 3"}}
	for i, p := range pts {
		at[i] = p.At
		ls[0].Values = append(ls[0].Values, p.Sent)
		ls[1].Values = append(ls[1].Values, p.Delivered)
		ls[2].Values = append(ls[2].Values, p.Read)
	}
	return at, ls
}

package ui

import (
	"encoding/xml"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"
)

// svgElems parses an SVG as XML (failing the test if it is not) and
// returns its elements with their attributes and the text of each title.
func svgElems(t *testing.T, svg string) ([]xml.StartElement, []string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(svg))
	var els []xml.StartElement
	var titles []string
	inTitle := false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not XML: %v\n%s", err, svg)
		}
		switch x := tok.(type) {
		case xml.StartElement:
			els = append(els, x.Copy())
			inTitle = x.Name.Local == "title"
		case xml.CharData:
			if inTitle {
				titles = append(titles, string(x))
			}
		case xml.EndElement:
			inTitle = false
		}
	}
	return els, titles
}

func attr(e xml.StartElement, name string) string {
	for _, a := range e.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// TestFunnelSVG: valid XML, labelled for screen readers, one bar per
// stage with widths proportional to the counts, text escaped.
func TestFunnelSVG(t *testing.T) {
	svg := string(FunnelSVG("f1", "Funnel <&>", "targeted 200, sent 150", []Bar{{"Targeted", 200}, {"Sent", 150}, {"Read <b>", 50}, {"Replied", 0}}))
	els, titles := svgElems(t, svg)
	if els[0].Name.Local != "svg" || attr(els[0], "role") != "img" || attr(els[0], "aria-labelledby") != "f1-t f1-d" {
		t.Fatalf("root: %+v", els[0])
	}
	if titles[0] != "Funnel <&>" {
		t.Errorf("title %q", titles[0])
	}
	var widths []float64
	for _, e := range els {
		if e.Name.Local == "rect" {
			w, err := strconv.ParseFloat(attr(e, "width"), 64)
			if err != nil {
				t.Fatal(err)
			}
			widths = append(widths, w)
		}
	}
	if len(widths) != 4 {
		t.Fatalf("bars: %v", widths)
	}
	for i, n := range []float64{200, 150, 50, 0} {
		if want := widths[0] * n / 200; widths[i] < want-0.01 || widths[i] > want+0.01 {
			t.Errorf("bar %d: width %v, want %v", i, widths[i], want)
		}
	}
	if widths[0] != chartBarW {
		t.Errorf("the whole is not full width: %v", widths[0])
	}
	for _, want := range []string{">Read &lt;b&gt;<", ">150 (75.0%)<", ">0 (0.0%)<"} {
		if !strings.Contains(svg, want) {
			t.Errorf("no %q in\n%s", want, svg)
		}
	}
	// Nothing targeted: no division by zero, empty bars.
	els, _ = svgElems(t, string(FunnelSVG("f2", "t", "d", []Bar{{"Targeted", 0}, {"Sent", 0}})))
	for _, e := range els {
		if e.Name.Local == "rect" && attr(e, "width") != "0.00" {
			t.Errorf("empty funnel bar %s", attr(e, "width"))
		}
	}
}

// TestSeriesSVG: valid XML, one line per series with a point per bucket,
// higher counts drawn higher, a legend and time labels as text.
func TestSeriesSVG(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	at := []time.Time{t0, t0.Add(time.Minute), t0.Add(2 * time.Minute)}
	lines := []SeriesLine{{Label: "Sent", Values: []int{10, 40, 5}}, {Label: "Delivered", Values: []int{0, 30, 20}, Dash: "6 3"}}
	svg := string(SeriesSVG("s1", "Over time", "per minute", at, "15:04", lines))
	els, titles := svgElems(t, svg)
	if attr(els[0], "role") != "img" || titles[0] != "Over time" {
		t.Fatalf("root %+v titles %v", els[0], titles)
	}
	polylines, circles := 0, map[string]float64{}
	for _, e := range els {
		switch e.Name.Local {
		case "polyline":
			polylines++
		case "circle":
			y, _ := strconv.ParseFloat(attr(e, "cy"), 64)
			circles[attr(e, "cx")+"/"+strconv.Itoa(len(circles))] = y
		}
	}
	if polylines != 2 || len(circles) != 6 {
		t.Fatalf("polylines %d circles %d", polylines, len(circles))
	}
	for _, want := range []string{">10:00<", ">10:02<", ">Sent<", ">Delivered<", ">40<", "Sent 10:01: 40"} {
		if !strings.Contains(svg, want) {
			t.Errorf("no %q", want)
		}
	}
	// The 40 is the top of the axis; the 5 lower than the 10 (SVG y grows down).
	if !strings.Contains(svg, `cy="`+strconv.FormatFloat(seriesT, 'f', 1, 64)+`"`) {
		t.Errorf("the top value is not at the top:\n%s", svg)
	}
	// One bucket: a point, no line, still valid.
	svg = string(SeriesSVG("s2", "t", "d", at[:1], "15:04", []SeriesLine{{Label: "Sent", Values: []int{3}}}))
	if els, _ := svgElems(t, svg); len(els) < 3 || strings.Contains(svg, "polyline") {
		t.Errorf("single point:\n%s", svg)
	}
}

package flows

import (
	"bytes"
	"fmt"
	"html"
	"slices"
	"strings"
	"unicode/utf8"
)

// Diagram layout, in SVG user units.
const (
	dgBoxX    = 8   // the boxes' left edge
	dgBoxW    = 280 // the boxes' width
	dgBoxH    = 52  // a box's height with at most two ways out
	dgGap     = 30  // between two boxes: room for the label of a straight arrow
	dgLabelW  = 110 // between the boxes and the first lane: the labels of the side arrows
	dgLaneGap = 12  // between two lanes
	dgTop     = 8
)

// stepColours are a box's fill and stroke by step type: the panel's palette.
var stepColours = map[string][2]string{
	StepSend:      {"#e6f3f1", "#0f766e"},
	StepAsk:       {"#eef4ff", "#2d4fa3"},
	StepCondition: {"#fff6e0", "#9a6700"},
	StepSet:       {"#f1f3f5", "#5d6677"},
	StepWait:      {"#f1f3f5", "#5d6677"},
	StepHandoff:   {"#fdecea", "#b42318"},
	StepEnd:       {"#e2e5ea", "#1d2330"},
}

// edge is one arrow of the diagram.
type edge struct {
	from, to int // step indexes; to == len(steps) is the end of the flow
	label    string
}

// Diagram draws d as SVG, read only: a box per step top to bottom in step
// order (its id, type and the start of its text), and an arrow for each way
// out, labelled with the branch (then, else, a choice's title, on_fail,
// on_timeout). An arrow to the following step is drawn straight down; the
// others go round on the right, each in a lane of its own so that they do
// not cross one another's labels. Branches to steps that do not exist are
// left out (Validate reports them). Every text is escaped: the result can
// be put in a page as it is. The same definition always gives the same
// bytes.
func Diagram(d *Definition) []byte {
	n := len(d.Steps)
	edges := diagramEdges(d)
	// A box is as tall as it needs for its arrows to leave it apart.
	out := make([]int, n+1)
	for _, e := range edges {
		out[e.from]++
	}
	ys := make([]int, n+2) // each box's top, then the end's, then the bottom
	hs := make([]int, n+1)
	y := dgTop
	for i := 0; i <= n; i++ {
		ys[i] = y
		hs[i] = max(dgBoxH, 16+14*out[i])
		if i == n {
			hs[i] = 28
		}
		y += hs[i] + dgGap
	}
	ys[n+1] = y
	hasEnd := false
	lanes := 0
	for _, e := range edges {
		if e.to == n {
			hasEnd = true
		}
		if e.to != e.from+1 {
			lanes++
		}
	}
	height := ys[n] - dgGap + 8
	if hasEnd {
		height = ys[n] + hs[n] + 8
	}
	if n == 0 {
		height = 40
	}
	width := dgBoxX + dgBoxW + dgLabelW + lanes*dgLaneGap + 16

	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="flow-diagram" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s" font-family="system-ui, sans-serif" font-size="12">`,
		width, height, width, height, esc(fmt.Sprintf("Diagram of the flow: %d steps", n)))
	b.WriteString(`<defs><marker id="flow-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="#5d6677"/></marker></defs>`)
	if n == 0 {
		b.WriteString(`<text x="8" y="24" fill="#5d6677">No steps yet.</text></svg>`)
		return b.Bytes()
	}

	// Arrows first, under the boxes.
	slot := make([]int, n+1) // the next free exit on each box's right side
	lane := 0
	for _, e := range edges {
		sy := ys[e.from] + hs[e.from]/2
		if e.to == e.from+1 {
			// Straight down from the bottom of the box.
			x := dgBoxX + dgBoxW/2
			y1, y2 := ys[e.from]+hs[e.from], ys[e.to]
			fmt.Fprintf(&b, `<path d="M%d %dV%d" stroke="#5d6677" stroke-width="1.5" fill="none" marker-end="url(#flow-arrow)"/>`, x, y1, y2-1)
			if e.label != "" {
				fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#5d6677" font-size="11">%s</text>`, x+8, y1+dgGap/2+4, esc(short(e.label, 30)))
			}
			continue
		}
		// Round on the right: out of the box's side, down (or up) a lane,
		// into the target's side.
		slot[e.from]++
		sy = ys[e.from] + 8 + slot[e.from]*14 - 4
		if out[e.from] <= 1 {
			sy = ys[e.from] + hs[e.from]/2
		}
		ty := ys[e.to] + hs[e.to]/2 + 6
		if e.to == n {
			ty = ys[n] + hs[n]/2
		}
		right := dgBoxX + dgBoxW
		lx := right + dgLabelW + lane*dgLaneGap
		lane++
		tx := right
		if e.to == n {
			tx = dgBoxX + dgBoxW/2 + 40
		}
		fmt.Fprintf(&b, `<path d="M%d %dH%dV%dH%d" stroke="#8a93a3" stroke-width="1.3" fill="none" marker-end="url(#flow-arrow)"/>`,
			right, sy, lx, ty, tx+1)
		if e.label != "" {
			fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#5d6677" font-size="11">%s</text>`, right+6, sy-3, esc(short(e.label, 16)))
		}
	}

	for i, s := range d.Steps {
		c, ok := stepColours[s.Type]
		if !ok {
			c = [2]string{"#ffffff", "#b42318"}
		}
		fmt.Fprintf(&b, `<g class="flow-step" data-step="%s">`, esc(s.ID))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" rx="8" fill="%s" stroke="%s" stroke-width="1.2"/>`,
			dgBoxX, ys[i], dgBoxW, hs[i], c[0], c[1])
		fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#1d2330" font-weight="650">%s</text>`, dgBoxX+10, ys[i]+19, esc(short(s.ID, 26)))
		fmt.Fprintf(&b, `<text x="%d" y="%d" fill="%s" font-size="11" text-anchor="end">%s</text>`, dgBoxX+dgBoxW-10, ys[i]+19, c[1], esc(short(s.Type, 12)))
		if t := stepSummary(&s); t != "" {
			fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#5d6677" font-size="11">%s</text>`, dgBoxX+10, ys[i]+38, esc(short(t, 42)))
		}
		b.WriteString(`</g>`)
	}
	if hasEnd {
		fmt.Fprintf(&b, `<g class="flow-end"><rect x="%d" y="%d" width="80" height="%d" rx="14" fill="#ffffff" stroke="#8a93a3"/><text x="%d" y="%d" fill="#5d6677" text-anchor="middle">end</text></g>`,
			dgBoxX+dgBoxW/2-40, ys[n], hs[n], dgBoxX+dgBoxW/2, ys[n]+hs[n]/2+4)
	}
	b.WriteString(`</svg>`)
	return b.Bytes()
}

// diagramEdges lists the arrows in step order: each step's ways out that
// lead somewhere, the following step (or the end) where that is the default.
func diagramEdges(d *Definition) []edge {
	var out []edge
	add := func(i int, to, label string, fallthru bool) {
		j := -1
		switch {
		case to != "":
			j = d.index(to)
		case fallthru:
			j = i + 1 // the following step, or n: the end
		}
		if j < 0 {
			return
		}
		out = append(out, edge{from: i, to: j, label: label})
	}
	for i := range d.Steps {
		s := &d.Steps[i]
		switch s.Type {
		case StepCondition:
			add(i, s.Then, "then", true)
			add(i, s.Else, "else", true)
		case StepAsk:
			for _, c := range s.Choices {
				if c.Next != "" {
					add(i, c.Next, c.Title, false)
				}
			}
			label := ""
			if slices.ContainsFunc(s.Choices, func(c Choice) bool { return c.Next != "" }) {
				label = "other answers"
			}
			add(i, s.Next, label, true)
			if s.OnFail != "" {
				add(i, s.OnFail, "on_fail", false)
			}
			if s.Timeout != "" && s.OnTimeout != "" {
				add(i, s.OnTimeout, "on_timeout", false)
			}
		case StepEnd, StepHandoff:
		case StepWait:
			if s.UntilEvent != "" {
				if s.OnEvent != "" {
					add(i, s.OnEvent, s.UntilEvent, false)
				} else {
					add(i, s.Next, s.UntilEvent, true)
				}
				if s.Timeout != "" {
					if s.OnTimeout != "" {
						add(i, s.OnTimeout, "on_timeout", false)
					} else if s.OnEvent != "" {
						add(i, s.Next, "on_timeout", true)
					}
				}
				break
			}
			if s.UntilReply {
				add(i, s.OnReply, "on_reply", true)
			}
			if s.UntilAttribute != "" {
				add(i, s.Next, "", true)
				add(i, s.OnMissing, "on_missing", false)
				break
			}
			add(i, s.Next, s.Duration, true)
		case StepHTTP:
			add(i, s.Next, "2xx", true)
			if s.HTTP != nil {
				add(i, s.HTTP.OnError, "on_error", false)
				add(i, s.HTTP.OnTimeout, "on_timeout", false)
			}
		case StepSplit:
			for _, b := range s.Split {
				add(i, b.Next, fmt.Sprintf("%s %d", b.Name, b.Weight), true)
			}
		case StepAI:
			add(i, s.Next, "", true)
			if s.OnUnanswered != "" {
				add(i, s.OnUnanswered, "on_unanswered", false)
			}
		default:
			add(i, s.Next, "", true)
		}
	}
	return out
}

// stepSummary is the line under a box's id: what the step says or does.
func stepSummary(s *Step) string {
	switch s.Type {
	case StepSend, StepAsk:
		if s.Media != nil && s.Type == StepSend {
			return "[" + s.Media.Type + "] " + s.Media.Caption
		}
		if s.CTA != nil && s.Type == StepSend {
			return s.Text + " [" + s.CTA.DisplayText + " ↗]"
		}
		return s.Text
	case StepHandoff:
		if s.Team != "" {
			return "to " + s.Team
		}
		return s.Text
	case StepCondition:
		if s.If != nil {
			return condSummary(s.If)
		}
	case StepSet:
		var parts []string
		if s.Attribute != "" {
			parts = append(parts, s.Attribute+" = "+s.Value)
		}
		if s.AddTag != "" {
			parts = append(parts, "+"+s.AddTag)
		}
		if s.RemoveTag != "" {
			parts = append(parts, "-"+s.RemoveTag)
		}
		if s.AddLabel != "" {
			parts = append(parts, "+label "+s.AddLabel)
		}
		if s.RemoveLabel != "" {
			parts = append(parts, "-label "+s.RemoveLabel)
		}
		return strings.Join(parts, ", ")
	case StepWait:
		if s.UntilEvent != "" {
			return "until " + s.UntilEvent
		}
		if s.UntilAttribute != "" {
			return strings.Join(strings.Fields("until "+s.UntilAttribute+" "+s.Offset+" "+s.At), " ")
		}
		return s.Duration
	case StepAI:
		if s.Question != "" {
			return s.Question
		}
		return "answers the next message"
	case StepEnd:
		if s.Outcome != "" {
			return s.Outcome
		}
		return OutcomeCompleted
	}
	return ""
}

func condSummary(c *Cond) string {
	switch {
	case len(c.All) > 0:
		return fmt.Sprintf("all of %d conditions", len(c.All))
	case len(c.Any) > 0:
		return fmt.Sprintf("any of %d conditions", len(c.Any))
	case c.Not != nil:
		return "not (" + condSummary(c.Not) + ")"
	}
	return strings.TrimSpace(c.Left + " " + c.Op + " " + c.Right)
}

// short cuts s to n characters on one line, with an ellipsis.
func short(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func esc(s string) string { return html.EscapeString(s) }

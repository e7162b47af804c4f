package flows

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

// The diagram is well-formed XML whatever the texts say, has a box per
// step and a labelled arrow per branch, and is the same every time.
func TestDiagram(t *testing.T) {
	d := &Definition{Steps: []Step{
		{ID: "reason", Type: StepAsk, Input: InputChoice, Var: "reason", Text: `What is it about? <script>alert("x")</script>`,
			Choices: []Choice{{ID: "pain", Title: "Pain & fear", Next: "urgent"}, {ID: "cleaning", Title: "Cleaning"}}},
		{ID: "late", Type: StepCondition, If: &Cond{Left: "time.hour", Op: OpGt, Right: "18"}, Then: "urgent", Else: "book"},
		{ID: "book", Type: StepHandoff, Text: "A person will confirm"},
		{ID: "urgent", Type: StepHandoff, Urgent: true},
	}}
	svg := Diagram(d)
	if !bytes.Equal(svg, Diagram(d)) {
		t.Fatal("two drawings of the same flow differ")
	}
	dec := xml.NewDecoder(bytes.NewReader(svg))
	var texts []string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed: %v\n%s", err, svg)
		}
		if c, ok := tok.(xml.CharData); ok {
			texts = append(texts, string(c))
		}
	}
	all := strings.Join(texts, "|")
	for _, want := range []string{"reason", "late", "book", "urgent", "Pain & fear", "then", "else", "time.hour gt 18"} {
		if !strings.Contains(all, want) {
			t.Errorf("the diagram does not say %q: %s", want, all)
		}
	}
	if strings.Contains(string(svg), "<script") {
		t.Fatal("a step's text went into the SVG unescaped")
	}
	if n := strings.Count(string(svg), `class="flow-step"`); n != 4 {
		t.Fatalf("%d boxes for 4 steps", n)
	}
	if got := string(Diagram(&Definition{})); !strings.Contains(got, "No steps") {
		t.Fatalf("empty flow: %s", got)
	}
}

// TestDiagramDrawsEveryExit: a wait's reply, an HTTP step's error and
// timeout, and each branch of a split are arrows with their labels.
func TestDiagramDrawsEveryExit(t *testing.T) {
	d := &Definition{Steps: []Step{
		{ID: "call", Type: StepHTTP, HTTP: &HTTPRequest{Method: "GET", URL: "https://erp.example.com/x", OnError: "sorry", OnTimeout: "sorry"}},
		{ID: "ab", Type: StepSplit, Split: []SplitBranch{{Name: "A", Weight: 70, Next: "pause"}, {Name: "B", Weight: 30, Next: "sorry"}}},
		{ID: "pause", Type: StepWait, Duration: "1d", UntilReply: true, OnReply: "sorry"},
		{ID: "sorry", Type: StepEnd},
	}}
	svg := string(Diagram(d))
	for _, want := range []string{">on_error<", ">on_timeout<", ">A 70<", ">B 30<", ">on_reply<", ">2xx<"} {
		if !strings.Contains(svg, want) {
			t.Errorf("the diagram lacks %q:\n%s", want, svg)
		}
	}
}

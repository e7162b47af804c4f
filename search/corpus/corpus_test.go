package corpus

import (
	"testing"
)

func TestDeterministic(t *testing.T) {
	a, b := New(1, 500), New(1, 500)
	var ta, tb []string
	a.Messages(2000, func(m *Message) bool { ta = append(ta, m.Text); return true })
	b.Messages(2000, func(m *Message) bool { tb = append(tb, m.Text); return true })
	for i := range ta {
		if ta[i] != tb[i] {
			t.Fatalf("message %d differs: %q vs %q", i+1, ta[i], tb[i])
		}
	}
	if a.Contacts[42].Name != b.Contacts[42].Name {
		t.Fatal("contacts differ")
	}
}

func TestSample(t *testing.T) {
	c := New(7, 2000)
	c.Messages(40, func(m *Message) bool {
		t.Logf("%d %s %-9s %-11s %s %q", m.ID, m.Lang, m.Direction, m.Type, m.At.Format("2006-01-02"), m.Text)
		return true
	})
	for _, ct := range c.Contacts[:5] {
		t.Logf("%+v", ct)
	}
}

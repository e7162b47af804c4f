package whatsapp

import "testing"

func TestStatusRank(t *testing.T) {
	t.Parallel()
	tests := map[string]int{"": 0, "sent": 1, "delivered": 2, "read": 3, "played": 4, "failed": 100, "deleted": 0, "READ": 0}
	for status, want := range tests {
		if got := StatusRank(status); got != want {
			t.Errorf("StatusRank(%q) = %d, want %d", status, got, want)
		}
	}
}

func TestStatusAdvances(t *testing.T) {
	t.Parallel()
	tests := []struct {
		current, next string
		want          bool
	}{
		{"", "sent", true},
		{"", "read", true},
		{"sent", "delivered", true},
		{"sent", "read", true},
		{"delivered", "read", true},
		{"read", "played", true},
		{"read", "delivered", false}, // out of order: delivered after read
		{"delivered", "delivered", false},
		{"played", "read", false},
		{"sent", "failed", true},
		{"read", "failed", true},
		{"", "failed", true},
		{"failed", "failed", false},
		{"failed", "read", false},
		{"failed", "played", false},
		{"sent", "mystery", false},
		{"mystery", "sent", true},
	}
	for _, tt := range tests {
		if got := StatusAdvances(tt.current, tt.next); got != tt.want {
			t.Errorf("StatusAdvances(%q, %q) = %v, want %v", tt.current, tt.next, got, tt.want)
		}
	}
}

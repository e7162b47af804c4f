package secrets_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"sendbox/secrets"
	"sendbox/store"
)

// TestSealedValueBoundToItsName: a sealed value copied onto another
// secret's row (by someone with the database but not the key) does not
// open; a value is never sealed the same way twice.
func TestSealedValueBoundToItsName(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "sendbox.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	box, err := secrets.New(st, bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"A", "B"} {
		if _, created, err := box.Set(ctx, n, "value-of-"+n); err != nil || !created {
			t.Fatalf("set %s: %v %v", n, created, err)
		}
	}
	a, _ := st.SecretByName(ctx, "A")
	if _, _, err := box.Set(ctx, "A", "value-of-A"); err != nil {
		t.Fatal(err)
	}
	if again, _ := st.SecretByName(ctx, "A"); bytes.Equal(again.Sealed, a.Sealed) {
		t.Fatal("the same value sealed twice gave the same bytes")
	}
	if _, _, err := st.PutSecret(ctx, "B", a.Sealed, a.KeyID); err != nil {
		t.Fatal(err)
	}
	if v, err := box.Reveal(ctx, "B"); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("A's value under B's name: %q %v", v, err)
	}
	if v, err := box.Reveal(ctx, "A"); err != nil || v != "value-of-A" {
		t.Fatalf("A: %q %v", v, err)
	}

	other, _ := secrets.New(st, bytes.Repeat([]byte{2}, 32))
	if _, err := other.Reveal(ctx, "A"); !errors.Is(err, secrets.ErrKeyChanged) {
		t.Fatalf("under another key: %v", err)
	}
	if names, err := other.Unreadable(ctx); err != nil || len(names) != 2 {
		t.Fatalf("unreadable: %v %v", names, err)
	}
}

package ui_test

import (
	"strings"
	"testing"

	"sendbox/config"
	"sendbox/sendboxtest"
)

// TestDiskLowBanner: when the disk is under the floor and webhooks are
// refused, admins see why on every page; agents, who can do nothing about
// it, do not.
func TestDiskLowBanner(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithConfig(func(c *config.Config) { c.DiskFloor = 1 << 50 }))
	owner := setupOwner(t, a)
	for _, path := range []string{"/inbox", "/contacts", "/settings"} {
		_, body := owner.get(path)
		if !strings.Contains(body, `role="alert"><strong>The disk is nearly full.</strong>`) || !strings.Contains(body, "Meta sends them again later") {
			t.Fatalf("%s: no disk banner for the owner:\n%s", path, body)
		}
	}
	if _, body := userBrowser(t, a, "agent").get("/inbox"); strings.Contains(body, "The disk is nearly full") {
		t.Fatal("an agent sees the disk banner")
	}

	ok := sendboxtest.New(t)
	if _, body := setupOwner(t, ok).get("/inbox"); strings.Contains(body, "The disk is nearly full") {
		t.Fatal("a banner with room on the disk")
	}
}

package ui_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"sendbox/accounts"
	"sendbox/sendboxtest"
)

// TestAdminCannotRevokeOwnerKeys: an admin may not create an owner-role key,
// and so may not revoke one either; an owner may.
func TestAdminCannotRevokeOwnerKeys(t *testing.T) {
	a := sendboxtest.New(t)
	owner := setupOwner(t, a)
	admin := userBrowser(t, a, "admin")
	ctx := context.Background()
	_, ownerKey, err := accounts.CreateAPIKey(ctx, a.Store, "billing system", accounts.Owner)
	if err != nil {
		t.Fatal(err)
	}
	_, adminKey, err := accounts.CreateAPIKey(ctx, a.Store, "crm", accounts.Admin)
	if err != nil {
		t.Fatal(err)
	}
	revoked := func(id int64) bool {
		keys, err := a.Store.ListAPIKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if k.ID == id {
				return !k.RevokedAt.IsZero()
			}
		}
		t.Fatalf("no key %d", id)
		return false
	}

	// The admin's page offers no way to revoke the owner's key...
	_, page := admin.get("/settings/api-keys")
	if strings.Contains(page, "/settings/api-keys/"+itoa(ownerKey.ID)+"/revoke") {
		t.Error("the admin's page offers to revoke an owner key")
	}
	if !strings.Contains(page, "/settings/api-keys/"+itoa(adminKey.ID)+"/revoke") {
		t.Error("the admin's page offers no way to revoke an admin key")
	}
	// ...and the post is refused.
	if resp, _ := admin.post("/settings/api-keys/"+itoa(ownerKey.ID)+"/revoke", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("admin revokes an owner key: %d, want 403", resp.StatusCode)
	}
	if revoked(ownerKey.ID) {
		t.Fatal("the admin revoked an owner key")
	}
	if resp, _ := admin.post("/settings/api-keys/"+itoa(adminKey.ID)+"/revoke", nil); resp.StatusCode != http.StatusSeeOther || !revoked(adminKey.ID) {
		t.Errorf("admin revokes an admin key: %d", resp.StatusCode)
	}
	if resp, _ := owner.post("/settings/api-keys/"+itoa(ownerKey.ID)+"/revoke", nil); resp.StatusCode != http.StatusSeeOther || !revoked(ownerKey.ID) {
		t.Errorf("owner revokes an owner key: %d", resp.StatusCode)
	}
	// Nor may an admin create one (least privilege).
	if resp, _ := admin.post("/settings/api-keys", map[string][]string{"name": {"sneaky"}, "role": {"owner"}}); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("admin creates an owner key: %d, want 422", resp.StatusCode)
	}
}

package server_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"sendbox/netguard"
	"sendbox/sendboxtest"
)

type catalogueAnswer struct {
	Compatible bool
	Vehicle    string
	Plate      string
	Country    string
	VIN        string
	Part       string
	SKU        string
	PriceEUR   float64 `json:"price_eur"`
	InStock    int     `json:"in_stock"`
	Reason     string
	Error      struct{ Code, Message, Field string }
}

func getCatalogue(t *testing.T, c *http.Client, u string) (int, catalogueAnswer) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var ans catalogueAnswer
	if err := json.Unmarshal(b, &ans); err != nil {
		t.Fatalf("GET %s: %d %s", u, resp.StatusCode, b)
	}
	return resp.StatusCode, ans
}

// TestSandboxCatalogue: the demo catalogue answers without a key, by plate
// (Italian or French, any spelling) or VIN, through the guarded client a
// flow uses; the guard still refuses every other loopback address.
func TestSandboxCatalogue(t *testing.T) {
	t.Parallel()
	a := sendboxtest.New(t)
	base := a.SandboxCatalogueURL()
	if base != a.URL()+"/sandbox/catalogue" {
		t.Fatalf("catalogue URL %q", base)
	}
	q := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return base + "/compatibility?" + v.Encode()
	}

	// As the ready-made flow calls it: through a.HTTPClient, no key.
	code, ans := getCatalogue(t, a.HTTPClient, base+"/compatibility?plate=AB123CD&part=brake+pads")
	if code != 200 || !ans.Compatible || ans.Vehicle != "Fiat Panda 1.2 2019" || ans.Part != "Brake pads (front)" ||
		ans.SKU != "BP-FP-19" || ans.PriceEUR != 42.5 || ans.InStock != 3 || ans.Plate != "AB123CD" || ans.Country != "IT" {
		t.Fatalf("panda's brake pads: %d %+v", code, ans)
	}
	for _, tc := range []struct {
		url        string
		status     int
		compatible bool
		sku, code  string
		field      string
	}{
		{q("plate", "gh 482 kl", "part", "Plaquettes de frein"), 200, true, "BP-P2-20", "", ""},
		{q("plate", "GH482KL", "part", "BD"), 200, true, "BD-P2-20", "", ""},
		{q("vin", "zfa31200000j45678", "part", "filtro olio"), 200, true, "OF-FP-19", "", ""},
		{q("plate", "BZ-905-XW", "part", "oil filter"), 200, false, "", "", ""},
		{q("plate", "FM987KP", "part", "timing belt"), 200, false, "", "", ""},
		{q("plate", "ZZ999ZZ", "part", "brake pads"), 404, false, "", "unknown_vehicle", ""},
		{q("vin", "WVWZZZAUZGW999999", "part", "brake pads"), 404, false, "", "unknown_vehicle", ""},
		{q("plate", "AB123CD", "part", "flux capacitor"), 404, false, "", "unknown_part", ""},
		{q("vin", "123", "part", "brake pads"), 400, false, "", "invalid_query", "vin"},
		{q("vin", "ZFA31200000I45678", "part", "brake pads"), 400, false, "", "invalid_query", "vin"},
		{q("plate", "AB12", "part", "brake pads"), 400, false, "", "invalid_query", "plate"},
		{q("plate", "AB123CD"), 400, false, "", "invalid_query", "part"},
		{q("part", "brake pads"), 400, false, "", "invalid_query", "plate"},
		{q("plate", "AB123CD", "vin", "ZFA31200000J45678", "part", "pads"), 400, false, "", "invalid_query", "vin"},
	} {
		code, ans := getCatalogue(t, http.DefaultClient, tc.url)
		if code != tc.status || ans.Compatible != tc.compatible || ans.SKU != tc.sku || ans.Error.Code != tc.code || ans.Error.Field != tc.field {
			t.Errorf("%s: %d %+v", tc.url, code, ans)
		}
		if code == 200 && !ans.Compatible && ans.Reason == "" {
			t.Errorf("%s: no reason given", tc.url)
		}
	}

	// Sendbox's own address is allowed, not loopback as a whole.
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer other.Close()
	_, err := a.HTTPClient.Get(other.URL)
	var be *netguard.BlockedError
	if !errors.As(err, &be) {
		t.Fatalf("another loopback server through a.HTTPClient: %v", err)
	}
}

// TestCatalogueOnlyInSandbox: with Meta credentials the catalogue does not
// exist, and sendbox's own address is as private as any other.
func TestCatalogueOnlyInSandbox(t *testing.T) {
	t.Parallel()
	a := sendboxtest.New(t, sendboxtest.WithGraph(simOptions()))
	if u := a.SandboxCatalogueURL(); u != "" {
		t.Fatalf("catalogue URL %q in production", u)
	}
	code, ans := getCatalogue(t, http.DefaultClient, a.URL()+"/sandbox/catalogue/compatibility?plate=AB123CD&part=brake+pads")
	if code != 404 || ans.Error.Code != "not_sandbox" {
		t.Fatalf("%d %+v", code, ans)
	}
	_, err := a.HTTPClient.Get(a.URL() + "/healthz")
	var be *netguard.BlockedError
	if !errors.As(err, &be) {
		t.Fatalf("sendbox itself through a.HTTPClient in production: %v", err)
	}
}

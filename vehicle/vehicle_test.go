package vehicle_test

import (
	"testing"

	"sendbox/vehicle"
)

func TestPlates(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		country, in, want string
		ok                bool
	}{
		{"IT", "AB123CD", "AB123CD", true},
		{"it", " ab 123 cd ", "AB123CD", true},
		{"IT", "AB-123-CD", "AB123CD", true},
		{"IT", "AI123CD", "", false}, // no I, O, Q, U on Italian plates
		{"IT", "AB123CU", "", false},
		{"IT", "AB12CD", "", false},
		{"IT", "AB1234CD", "", false},
		{"IT", "ABC23CD", "", false},
		{"IT", "ÀB123CD", "", false},
		{"FR", "AB-123-CD", "AB-123-CD", true},
		{"FR", "ab123cd", "AB-123-CD", true},
		{"FR", "AB 123 CD", "AB-123-CD", true},
		{"FR", "AQ-123-CD", "AQ-123-CD", true}, // Q is used in France
		{"FR", "AO-123-CD", "", false},
		{"FR", "AB-000-CD", "", false},
		{"FR", "SS-123-CD", "", false},
		{"FR", "AB-123-SS", "", false},
		{"FR", "123-AB-45", "", false}, // the old FNI format
		{"DE", "AB123CD", "", false},
		{"", "AB123CD", "", false},
	} {
		got, ok := vehicle.NormalizePlate(tc.country, tc.in)
		if got != tc.want || ok != tc.ok || vehicle.ValidPlate(tc.country, tc.in) != tc.ok {
			t.Errorf("%s %q: %q %v, want %q %v", tc.country, tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestVINs(t *testing.T) {
	t.Parallel()
	for in, ok := range map[string]bool{
		"1M8GDM9AXKP042788": true, "ZFA31200000J45678": true, "WVWZZZAUZGW112358": true,
		"1M8GDM9AXKP04278": false, "1M8GDM9AXKP0427881": false,
		"1M8GDM9AXKP04278I": false, "1M8GDM9AXKP04278O": false, "1M8GDM9AXKP04278Q": false,
		"1m8gdm9axkp042788": false, "1M8GDM9AXKP-42788": false, "": false,
	} {
		if vehicle.ValidVIN(in) != ok {
			t.Errorf("ValidVIN(%q) != %v", in, ok)
		}
	}
	if v, ok := vehicle.NormalizeVIN(" 1m8gdm9axkp042788 "); !ok || v != "1M8GDM9AXKP042788" {
		t.Errorf("NormalizeVIN: %q %v", v, ok)
	}
	// Check digits: optional for ValidVIN, checked by VINCheckDigitOK.
	if !vehicle.VINCheckDigitOK("1M8GDM9AXKP042788") || !vehicle.VINCheckDigitOK("11111111111111111") ||
		vehicle.VINCheckDigitOK("1M8GDM9A1KP042788") {
		t.Error("check digits")
	}
}

// TestDemoCatalogue: every car has a plate of its country and a valid,
// distinct VIN; every part has an answer for every car; parts are found
// by what customers call them.
func TestDemoCatalogue(t *testing.T) {
	t.Parallel()
	c := vehicle.Demo
	cars := c.Vehicles()
	if len(cars) != 12 {
		t.Fatalf("%d cars", len(cars))
	}
	seen := map[string]bool{}
	for _, v := range cars {
		if p, ok := vehicle.NormalizePlate(v.Country, v.Plate); !ok || p != v.Plate {
			t.Errorf("%s: plate %q of %s", v.Name(), v.Plate, v.Country)
		}
		if !vehicle.ValidVIN(v.VIN) || seen[v.VIN] || seen[v.Plate] {
			t.Errorf("%s: VIN %q", v.Name(), v.VIN)
		}
		seen[v.VIN], seen[v.Plate] = true, true
		for _, p := range c.Parts() {
			f := c.Fit(&v, &p)
			if f.Compatible == (f.Reason != "") || f.Compatible && (f.SKU == "" || f.PriceEUR <= 0 || f.InStock < 0) {
				t.Errorf("%s, %s: %+v", v.Name(), p.Name, f)
			}
		}
	}
	panda, ok := c.ByPlate("ab-123-cd")
	bp, ok2 := c.FindPart("brake pads")
	if !ok || !ok2 || panda.Name() != "Fiat Panda 1.2 2019" || bp.Name != "Brake pads (front)" {
		t.Fatalf("panda %v %v", panda, bp)
	}
	if f := c.Fit(panda, bp); f != (vehicle.Fit{Compatible: true, SKU: "BP-FP-19", PriceEUR: 42.5, InStock: 3}) {
		t.Fatalf("panda's pads: %+v", f)
	}
	for q, code := range map[string]string{"Pastiglie  Freno": "BP", "plaquettes de frein": "BP", "bp": "BP",
		"Filtre à huile": "OF", "courroie de distribution": "TB", "balais d’essuie-glace": "WB", "Battery": "BT"} {
		if p, ok := c.FindPart(q); !ok || p.Code != code {
			t.Errorf("FindPart(%q): %v %v", q, p, ok)
		}
	}
	if _, ok := c.FindPart("flux capacitor"); ok {
		t.Error("an unknown part was found")
	}
}

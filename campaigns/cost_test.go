package campaigns

import (
	"math"
	"testing"

	"sendbox/store"
)

func f(v float64) *float64 { return &v }

func testCard() *store.RateCard {
	return &store.RateCard{Currency: "USD", Rates: []store.Rate{
		{Country: "IT", Marketing: f(0.0691), Utility: f(0.03), Authentication: f(0.0378)},
		{Country: "FR", Marketing: f(0.1432), Utility: f(0.03), Authentication: f(0.0691)},
		{Country: store.RateOther},
	}}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// TestEstimateCost: marketing is charged everywhere there is a rate;
// utility is free inside the window; countries without a rate are
// counted apart; an "other" rate prices them once it is set; an A/B mix
// splits each country's recipients exactly.
func TestEstimateCost(t *testing.T) {
	counts := []store.CountryCount{
		{Prefix: "3933", Total: 10, InWindow: 4}, // IT
		{Prefix: "3361", Total: 3, InWindow: 0},  // FR
		{Prefix: "5511", Total: 2, InWindow: 1},  // BR: no rate
		{Prefix: "1212", Total: 1, InWindow: 0},  // US: no rate
	}
	mk := EstimateCost(testCard(), counts, map[string][]share{"": {{Category: CatMarketing, Part: 1}}})
	if mk.Billable != 13 || !near(mk.Amount, 10*0.0691+3*0.1432) || mk.NoRate != 3 || mk.Free != 0 ||
		len(mk.NoRateCountries) != 2 || mk.NoRateCountries[0] != "BR" || mk.NoRateCountries[1] != "US" {
		t.Errorf("marketing: %+v", mk)
	}
	ut := EstimateCost(testCard(), counts, map[string][]share{"": {{Category: CatUtility, Part: 1}}})
	if ut.Billable != 9 || ut.Free != 5 || !near(ut.Amount, 9*0.03) || ut.NoRate != 1+1 {
		t.Errorf("utility: %+v", ut)
	}
	card := testCard()
	card.Rates[2].Marketing = f(0.05)
	other := EstimateCost(card, counts, map[string][]share{"": {{Category: CatMarketing, Part: 1}}})
	if other.NoRate != 0 || other.Billable != 16 || !near(other.Amount, 10*0.0691+3*0.1432+3*0.05) {
		t.Errorf("with an other rate: %+v", other)
	}
	// A: 45 % marketing, B: 45 % utility, hold-out 10 %: 10 Italians →
	// 5 (4.5 rounded), 4, 1; the parts add up to the whole.
	ab := EstimateCost(testCard(), counts[:1], map[string][]share{"": {{Category: CatMarketing, Part: 0.45}, {Category: CatUtility, Part: 0.45}, {Part: 0.1}}})
	total := 0
	for _, l := range ab.Lines {
		total += l.Messages + l.Free
	}
	if total != 9 || ab.Lines[0].Category != CatMarketing || ab.Lines[0].Messages != 5 {
		t.Errorf("A/B: %+v", ab)
	}
	// Per variant after the launch.
	byVariant := EstimateCost(testCard(), []store.CountryCount{{Prefix: "3933", Variant: "A", Total: 2}, {Prefix: "3933", Variant: "B", Total: 3, InWindow: 3}},
		map[string][]share{"A": {{Category: CatMarketing, Part: 1}}, "B": {{Category: CatUtility, Part: 1}}})
	if byVariant.Billable != 2 || byVariant.Free != 3 || !near(byVariant.Amount, 2*0.0691) {
		t.Errorf("by variant: %+v", byVariant)
	}
}

// TestActualCost: what Meta's pricing objects say, priced by the card.
func TestActualCost(t *testing.T) {
	yes, no := true, false
	priced := []store.PricedCount{
		{Prefix: "3933", Category: "marketing", Type: "regular", Model: "PMP", Billable: &yes, Delivered: true, N: 3},
		{Prefix: "3933", Category: "marketing", Type: "regular", Model: "PMP", Billable: &yes, Delivered: false, N: 2}, // not delivered: pending
		{Prefix: "3361", Category: "utility", Type: "free_customer_service", Model: "PMP", Billable: &no, Delivered: true, N: 4},
		{Prefix: "3361", Category: "referral_conversion", Type: "free_entry_point", Model: "PMP", Delivered: true, N: 1},
		{Prefix: "3361", Category: "marketing_lite", Type: "regular", Model: "PMP", Delivered: true, N: 1},
		{Prefix: "3361", Category: "authentication-international", Type: "regular", Model: "PMP", Delivered: true, N: 1}, // no rate
		{Prefix: "3933", Category: "service", Model: "CBP", Billable: &yes, Delivered: true, N: 2},                       // old pricing: not per message
		{Prefix: "3933", Category: "utility", Model: "PMP", Billable: &yes, Delivered: true, N: 1},                       // no type: billable says
		{Prefix: "3933", Delivered: false, N: 5}, // no pricing yet
	}
	c := ActualCost(testCard(), priced)
	want := 3*0.0691 + 0.1432 + 0.03
	if c.Billable != 5 || !near(c.Amount, want) || c.Pending != 2 || c.Free != 4+1+2 || c.NoRate != 1 || c.Unpriced != 5 ||
		len(c.NoRateCountries) != 1 || c.NoRateCountries[0] != "FR" {
		t.Errorf("actual: %+v (want amount %v)", c, want)
	}
}

func TestRateCategory(t *testing.T) {
	for in, want := range map[string]string{"MARKETING": CatMarketing, "UTILITY": CatUtility, "AUTHENTICATION": CatAuthentication,
		"authentication-international": CatAuthIntl, "marketing_lite": CatMarketing, "service": "", "referral_conversion": ""} {
		if got := rateCategory(in); got != want {
			t.Errorf("%s: %q, want %q", in, got, want)
		}
	}
}

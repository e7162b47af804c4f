package campaigns

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestZTest(t *testing.T) {
	// 10 % of 2,000 against 13 % of 2,000: z ≈ 2.97.
	z := ZTest(Arm{"B", 260, 2000}, Arm{"A", 200, 2000})
	if math.Abs(z-2.97) > 0.02 {
		t.Errorf("z = %.3f, want 2.97", z)
	}
	if q := normalQuantile(0.975); math.Abs(q-zCritical) > 1e-6 {
		t.Errorf("quantile(0.975) = %f", q)
	}
	if ZTest(Arm{"A", 0, 0}, Arm{"B", 1, 10}) != 0 {
		t.Error("an empty arm decides nothing")
	}
}

func TestDecide(t *testing.T) {
	d := Decide([]Arm{{"A", 200, 2000}, {"B", 300, 2000}}, 100, "")
	if d.Winner != "B" || !d.Significant {
		t.Errorf("%+v", d)
	}
	// Too few sent: the higher observed rate, labelled not significant.
	d = Decide([]Arm{{"A", 5, 50}, {"B", 20, 50}}, 100, "")
	if d.Winner != "B" || d.Significant || !strings.Contains(d.Note, "not significant") {
		t.Errorf("%+v", d)
	}
	// Inconclusive with the owner's fallback variant.
	d = Decide([]Arm{{"A", 200, 2000}, {"B", 205, 2000}}, 100, "A")
	if d.Winner != "A" || d.Significant {
		t.Errorf("%+v", d)
	}
	// Three arms: the best must beat both.
	d = Decide([]Arm{{"A", 200, 2000}, {"B", 300, 2000}, {"C", 290, 2000}}, 100, "")
	if d.Significant {
		t.Errorf("B does not beat C: %+v", d)
	}
}

// TestABSimulation: reply rates of 10 % and 13 %, 2,000 recipients per
// variant, many seeded trials: the test declares the better variant the
// significant winner in at least 80 % of them, and the worse one (by any
// route, fallback included) in at most 1 %.
func TestABSimulation(t *testing.T) {
	const trials, n = 2000, 2000
	r := rand.New(rand.NewPCG(12, 34))
	right, wrong := 0, 0
	for range trials {
		a, b := Arm{Name: "A", N: n}, Arm{Name: "B", N: n}
		for range n {
			if r.Float64() < 0.10 {
				a.Successes++
			}
			if r.Float64() < 0.13 {
				b.Successes++
			}
		}
		// Alternate the order, so that a bias to the first arm shows.
		arms := []Arm{a, b}
		if r.IntN(2) == 0 {
			arms = []Arm{b, a}
		}
		d := Decide(arms, 1000, "")
		switch {
		case d.Winner == "B" && d.Significant:
			right++
		case d.Winner == "A":
			wrong++
		}
	}
	t.Logf("%d trials: the better variant won significantly in %.1f %%, the worse one won in %.2f %%",
		trials, 100*float64(right)/trials, 100*float64(wrong)/trials)
	if float64(right) < 0.80*trials {
		t.Errorf("right winner in %d of %d trials", right, trials)
	}
	if float64(wrong) > 0.01*trials {
		t.Errorf("wrong winner in %d of %d trials", wrong, trials)
	}
}

package campaigns

import (
	"fmt"
	"math"
	"sort"

	"sendbox/store"
)

// A/B metrics and the default fallback.
const (
	MetricReply      = "reply"
	MetricClick      = "click"
	MetricConversion = "conversion"
	FallbackHigher   = "higher"
)

// zCritical is the two-sided 95 % critical value of the normal law.
const zCritical = 1.959963984540054

// Arm is one variant's outcome in a test: successes out of n sent.
type Arm struct {
	Name         string
	Successes, N int
}

func (a Arm) rate() float64 {
	if a.N == 0 {
		return 0
	}
	return float64(a.Successes) / float64(a.N)
}

// ZTest is the two-proportion z statistic of a against b (pooled
// standard error); positive when a does better.
func ZTest(a, b Arm) float64 {
	if a.N == 0 || b.N == 0 {
		return 0
	}
	p := float64(a.Successes+b.Successes) / float64(a.N+b.N)
	se := math.Sqrt(p * (1 - p) * (1/float64(a.N) + 1/float64(b.N)))
	if se == 0 {
		return 0
	}
	return (a.rate() - b.rate()) / se
}

// Decision is the outcome of an A/B test.
type Decision struct {
	Winner      string
	Significant bool
	Note        string
}

// Decide picks the winner among arms: the best observed rate wins when it
// beats every other arm by a two-proportion z-test at 95 % (each with at
// least minSample sent, compared one to one, with a Bonferroni correction
// for more than two arms); otherwise fallback decides ("higher" or "": the
// best observed rate, labelled not significant; or a variant's name).
func Decide(arms []Arm, minSample int, fallback string) Decision {
	if len(arms) == 0 {
		return Decision{}
	}
	sorted := append([]Arm(nil), arms...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].rate() > sorted[j].rate() })
	best := sorted[0]
	z := zCritical
	if len(arms) > 2 {
		// Bonferroni over the best arm's comparisons.
		z = normalQuantile(1 - 0.05/(2*float64(len(arms)-1)))
	}
	enough := true
	for _, a := range arms {
		enough = enough && a.N >= minSample
	}
	significant := enough && len(arms) > 1
	for _, o := range sorted[1:] {
		if ZTest(best, o) < z {
			significant = false
		}
	}
	if significant {
		return Decision{Winner: best.Name, Significant: true,
			Note: fmt.Sprintf("%s won: %.1f %% against %.1f %% (95 %% confidence)", best.Name, 100*best.rate(), 100*sorted[1].rate())}
	}
	why := "not significant"
	if !enough {
		why = fmt.Sprintf("not significant: fewer than %d sent in a variant", minSample)
	}
	if fallback != "" && fallback != FallbackHigher {
		for _, a := range arms {
			if a.Name == fallback {
				return Decision{Winner: a.Name, Note: fmt.Sprintf("%s chosen by the owner's fallback (%s)", a.Name, why)}
			}
		}
	}
	return Decision{Winner: best.Name, Note: fmt.Sprintf("%s had the higher rate, %.1f %% (%s)", best.Name, 100*best.rate(), why)}
}

// arms reads the test's figures by the campaign's metric.
func arms(c *Campaign, f *store.CampaignFunnel) []Arm {
	var out []Arm
	for _, v := range c.VariantList {
		vc := f.Variants[v.Name]
		if vc == nil {
			vc = &store.VariantCount{}
		}
		a := Arm{Name: v.Name, N: vc.Sent}
		switch c.SettingsDef.ABMetric {
		case MetricClick:
			a.Successes = vc.Clicked
		case MetricConversion:
			a.Successes = vc.Converted
		default:
			a.Successes = vc.Replied
		}
		out = append(out, a)
	}
	return out
}

// normalQuantile is the inverse of the standard normal distribution
// function (Acklam's rational approximation, relative error < 1.2e-9
// after one Newton step), for p in (0, 1).
func normalQuantile(p float64) float64 {
	a := []float64{-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00}
	b := []float64{-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01}
	c := []float64{-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00}
	d := []float64{7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00}
	const plow = 0.02425
	var x float64
	switch {
	case p < plow:
		q := math.Sqrt(-2 * math.Log(p))
		x = (((((c[0]*q+c[1])*q+c[2])*q+c[3])*q+c[4])*q + c[5]) / ((((d[0]*q+d[1])*q+d[2])*q+d[3])*q + 1)
	case p <= 1-plow:
		q := p - 0.5
		r := q * q
		x = (((((a[0]*r+a[1])*r+a[2])*r+a[3])*r+a[4])*r + a[5]) * q / (((((b[0]*r+b[1])*r+b[2])*r+b[3])*r+b[4])*r + 1)
	default:
		q := math.Sqrt(-2 * math.Log(1-p))
		x = -(((((c[0]*q+c[1])*q+c[2])*q+c[3])*q+c[4])*q + c[5]) / ((((d[0]*q+d[1])*q+d[2])*q+d[3])*q + 1)
	}
	e := 0.5*math.Erfc(-x/math.Sqrt2) - p
	u := e * math.Sqrt(2*math.Pi) * math.Exp(x*x/2)
	return x - u/(1+x*u/2)
}

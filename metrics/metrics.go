// Package metrics keeps sendbox's counters, gauges and histograms and writes
// them in the Prometheus text exposition format (version 0.0.4).
//
// It is a small hand-written registry rather than the Prometheus client
// library: sendbox needs a dozen series, and the standard library suffices.
package metrics

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Registry holds every metric family of one sendbox process.
type Registry struct {
	mu       sync.Mutex // guards families
	families []family
	start    time.Time
}

type family interface {
	name() string
	write(w *bufio.Writer)
}

// NewRegistry returns an empty registry with the process metrics registered.
func NewRegistry() *Registry {
	r := &Registry{start: time.Now()}
	r.GaugeFunc("go_goroutines", "Number of goroutines that currently exist.", func() float64 {
		return float64(runtime.NumGoroutine())
	})
	r.GaugeFunc("process_resident_memory_bytes", "Resident memory size in bytes.", func() float64 {
		return float64(ResidentMemory())
	})
	r.GaugeFunc("go_memstats_heap_inuse_bytes", "Bytes in in-use heap spans.", func() float64 {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return float64(ms.HeapInuse)
	})
	r.GaugeFunc("process_uptime_seconds", "Seconds since the process started.", func() float64 {
		return time.Since(r.start).Seconds()
	})
	return r
}

// add registers f, or returns the family already registered under its name
// so that two parts of sendbox can count into one series.
func (r *Registry) add(f family) family {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, g := range r.families {
		if g.name() == f.name() {
			return g
		}
	}
	r.families = append(r.families, f)
	return f
}

// WriteText writes every family in the Prometheus text format, sorted by name.
func (r *Registry) WriteText(w io.Writer) error {
	r.mu.Lock()
	fams := append([]family(nil), r.families...)
	r.mu.Unlock()
	sort.Slice(fams, func(i, j int) bool { return fams[i].name() < fams[j].name() })
	bw := bufio.NewWriter(w)
	for _, f := range fams {
		f.write(bw)
	}
	return bw.Flush()
}

// labelKey joins label values into a map key; \xff cannot occur in UTF-8.
func labelKey(values []string) string { return strings.Join(values, "\xff") }

func writeLabels(w *bufio.Writer, names, values []string, extraName, extraValue string) {
	if len(names) == 0 && extraName == "" {
		return
	}
	w.WriteByte('{')
	for i, n := range names {
		if i > 0 {
			w.WriteByte(',')
		}
		fmt.Fprintf(w, "%s=%s", n, strconv.Quote(values[i]))
	}
	if extraName != "" {
		if len(names) > 0 {
			w.WriteByte(',')
		}
		fmt.Fprintf(w, "%s=%s", extraName, strconv.Quote(extraValue))
	}
	w.WriteByte('}')
}

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// Counter is a monotonically increasing count.
type Counter struct{ v atomic.Uint64 }

// Inc adds one.
func (c *Counter) Inc() { c.v.Add(1) }

// Add adds n.
func (c *Counter) Add(n uint64) { c.v.Add(n) }

// Value returns the current count.
func (c *Counter) Value() uint64 { return c.v.Load() }

// CounterVec is a counter family with labels.
type CounterVec struct {
	fname, help string
	labels      []string
	mu          sync.RWMutex // guards series and order
	series      map[string]*Counter
	order       [][]string
}

// Counter registers a counter family (or returns the one of that name);
// call With to get one series.
func (r *Registry) Counter(name, help string, labels ...string) *CounterVec {
	c, ok := r.add(&CounterVec{fname: name, help: help, labels: labels, series: map[string]*Counter{}}).(*CounterVec)
	if !ok || len(c.labels) != len(labels) {
		panic("metrics: " + name + " registered twice with different types or labels") // a programming error
	}
	return c
}

// With returns the series for the label values, creating it on first use.
func (c *CounterVec) With(values ...string) *Counter {
	if len(values) != len(c.labels) {
		panic(fmt.Sprintf("metrics: %s wants %d label values, got %d", c.fname, len(c.labels), len(values)))
	}
	k := labelKey(values)
	c.mu.RLock()
	s := c.series[k]
	c.mu.RUnlock()
	if s != nil {
		return s
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s = c.series[k]; s == nil {
		s = &Counter{}
		c.series[k] = s
		c.order = append(c.order, append([]string(nil), values...))
	}
	return s
}

func (c *CounterVec) name() string { return c.fname }

func (c *CounterVec) write(w *bufio.Writer) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n", c.fname, c.help, c.fname)
	c.mu.RLock()
	defer c.mu.RUnlock()
	if len(c.labels) == 0 && len(c.order) == 0 {
		fmt.Fprintf(w, "%s 0\n", c.fname)
		return
	}
	for _, vals := range c.order {
		w.WriteString(c.fname)
		writeLabels(w, c.labels, vals, "", "")
		fmt.Fprintf(w, " %d\n", c.series[labelKey(vals)].Value())
	}
}

// gaugeFunc is a gauge read at scrape time.
type gaugeFunc struct {
	fname, help string
	labels      []string
	fn          func() []Sample
}

// Sample is one labelled value of a GaugeVecFunc.
type Sample struct {
	Labels []string
	Value  float64
}

// GaugeFunc registers a gauge whose value fn returns at each scrape.
func (r *Registry) GaugeFunc(name, help string, fn func() float64) {
	r.add(&gaugeFunc{fname: name, help: help, fn: func() []Sample { return []Sample{{Value: fn()}} }}) // first wins
}

// GaugeVecFunc registers a labelled gauge family read by fn at each scrape.
func (r *Registry) GaugeVecFunc(name, help string, labels []string, fn func() []Sample) {
	r.add(&gaugeFunc{fname: name, help: help, labels: labels, fn: fn})
}

func (g *gaugeFunc) name() string { return g.fname }

func (g *gaugeFunc) write(w *bufio.Writer) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s gauge\n", g.fname, g.help, g.fname)
	for _, s := range g.fn() {
		w.WriteString(g.fname)
		if len(s.Labels) == len(g.labels) {
			writeLabels(w, g.labels, s.Labels, "", "")
		}
		fmt.Fprintf(w, " %s\n", formatFloat(s.Value))
	}
}

// Histogram counts observations into cumulative buckets.
type Histogram struct {
	upper  []float64
	counts []atomic.Uint64 // one per bucket, plus +Inf
	sum    atomic.Uint64   // float64 bits
	count  atomic.Uint64
}

// Observe records one value.
func (h *Histogram) Observe(v float64) {
	i := sort.SearchFloat64s(h.upper, v)
	h.counts[i].Add(1)
	h.count.Add(1)
	for {
		old := h.sum.Load()
		if h.sum.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			return
		}
	}
}

// ObserveSince records the seconds elapsed since t.
func (h *Histogram) ObserveSince(t time.Time) { h.Observe(time.Since(t).Seconds()) }

// HistogramVec is a histogram family with labels.
type HistogramVec struct {
	fname, help string
	labels      []string
	buckets     []float64
	mu          sync.RWMutex // guards series and order
	series      map[string]*Histogram
	order       [][]string
}

// LatencyBuckets suit request latencies from 1 ms to 10 s, in seconds.
var LatencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// Histogram registers a histogram family with the given upper bounds.
func (r *Registry) Histogram(name, help string, buckets []float64, labels ...string) *HistogramVec {
	b := append([]float64(nil), buckets...)
	sort.Float64s(b)
	h, ok := r.add(&HistogramVec{fname: name, help: help, labels: labels, buckets: b, series: map[string]*Histogram{}}).(*HistogramVec)
	if !ok || len(h.labels) != len(labels) {
		panic("metrics: " + name + " registered twice with different types or labels") // a programming error
	}
	return h
}

// With returns the series for the label values, creating it on first use.
func (h *HistogramVec) With(values ...string) *Histogram {
	if len(values) != len(h.labels) {
		panic(fmt.Sprintf("metrics: %s wants %d label values, got %d", h.fname, len(h.labels), len(values)))
	}
	k := labelKey(values)
	h.mu.RLock()
	s := h.series[k]
	h.mu.RUnlock()
	if s != nil {
		return s
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if s = h.series[k]; s == nil {
		s = &Histogram{upper: h.buckets, counts: make([]atomic.Uint64, len(h.buckets)+1)}
		h.series[k] = s
		h.order = append(h.order, append([]string(nil), values...))
	}
	return s
}

func (h *HistogramVec) name() string { return h.fname }

func (h *HistogramVec) write(w *bufio.Writer) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s histogram\n", h.fname, h.help, h.fname)
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, vals := range h.order {
		s := h.series[labelKey(vals)]
		var cum uint64
		for i, ub := range s.upper {
			cum += s.counts[i].Load()
			w.WriteString(h.fname + "_bucket")
			writeLabels(w, h.labels, vals, "le", formatFloat(ub))
			fmt.Fprintf(w, " %d\n", cum)
		}
		cum += s.counts[len(s.upper)].Load()
		w.WriteString(h.fname + "_bucket")
		writeLabels(w, h.labels, vals, "le", "+Inf")
		fmt.Fprintf(w, " %d\n", cum)
		w.WriteString(h.fname + "_sum")
		writeLabels(w, h.labels, vals, "", "")
		fmt.Fprintf(w, " %s\n", formatFloat(math.Float64frombits(s.sum.Load())))
		w.WriteString(h.fname + "_count")
		writeLabels(w, h.labels, vals, "", "")
		fmt.Fprintf(w, " %d\n", s.count.Load())
	}
}

// ResidentMemory returns this process's resident set size in bytes, read
// from /proc (0 where /proc is not available).
func ResidentMemory() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * int64(os.Getpagesize())
}

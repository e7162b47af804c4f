package search

// The corpus benchmark: bleve against SQLite FTS5 on the same generated
// inbox. It is a test behind an environment variable, not a Benchmark
// function, because one run reports many figures (throughput, size, memory,
// per-query percentiles of both engines, a rebuild) and takes minutes:
//
//	SENDBOX_BENCH_SEARCH=1 go test ./search -run TestCorpusBenchmark -v -timeout 2h
//
// SENDBOX_BENCH_N (messages, default 1,000,000), SENDBOX_BENCH_CONTACTS
// (default 50,000), SENDBOX_BENCH_ROUNDS (runs of each query, default 50)
// and SENDBOX_BENCH_DIR (default a temporary folder) change the run;
// SENDBOX_BENCH_OUT also writes the report to a file.

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"sendbox/search/corpus"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func toMessage(m *corpus.Message) Message {
	return Message{ID: m.ID, ConversationID: m.ConversationID, ContactID: m.ContactID, AgentID: m.AgentID,
		Direction: m.Direction, Type: m.Type, Status: m.Status, Labels: m.Labels, Text: m.Text, At: m.At}
}

func toContact(c *corpus.Contact) Contact {
	return Contact{ID: c.ID, Name: c.Name, Phone: c.Phone, Username: c.Username, Email: c.Email, Notes: c.Notes,
		Tags: c.Tags, Attributes: c.Attributes}
}

// memory reports the Go heap in use and the process's resident set (now and
// peak), in MiB.
func memory() (heap, rss, peak float64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	heap = float64(ms.HeapInuse) / (1 << 20)
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 {
			v, _ := strconv.ParseFloat(f[1], 64)
			switch f[0] {
			case "VmRSS:":
				rss = v / 1024
			case "VmHWM:":
				peak = v / 1024
			}
		}
	}
	return
}

func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

// benchQuery is one query of the benchmark, for both engines.
type benchQuery struct {
	name string
	q    Query
	note string // what FTS5 does differently
}

type latencies []time.Duration

func (l latencies) pct(p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	s := slices.Clone(l)
	slices.Sort(s)
	i := int(float64(len(s)-1) * p)
	return s[i]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d.Microseconds())/1000) }

func TestCorpusBenchmark(t *testing.T) {
	if os.Getenv("SENDBOX_BENCH_SEARCH") == "" {
		t.Skip("set SENDBOX_BENCH_SEARCH=1 to run the corpus benchmark (minutes)")
	}
	n := envInt("SENDBOX_BENCH_N", 1_000_000)
	nc := envInt("SENDBOX_BENCH_CONTACTS", 50_000)
	rounds := envInt("SENDBOX_BENCH_ROUNDS", 50)
	dir := os.Getenv("SENDBOX_BENCH_DIR")
	if dir == "" {
		dir = t.TempDir()
	} else {
		dir = filepath.Join(dir, fmt.Sprintf("sendbox-bench-%d", time.Now().Unix()))
		t.Cleanup(func() { os.RemoveAll(dir) })
	}
	var report io.Writer = os.Stdout
	if p := os.Getenv("SENDBOX_BENCH_OUT"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		report = io.MultiWriter(os.Stdout, f)
	}
	say := func(format string, a ...any) { fmt.Fprintf(report, format+"\n", a...) }
	ctx := context.Background()

	say("# search corpus benchmark\n")
	say("%d messages, %d contacts, seed 1; GOMAXPROCS %d, %s; load average at start %s",
		n, nc, runtime.GOMAXPROCS(0), runtime.Version(), loadAvg())
	c := corpus.New(1, nc)

	// 1. bleve, incrementally, through Apply in batches of 1000.
	x, err := Open(Options{Dir: filepath.Join(dir, "bleve"), DefaultLang: "en"})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	samples := map[string]string{}
	reVAG := regexp.MustCompile(`\b\d[A-Z]\d \d{3} \d{3}\b`)
	reVIN := regexp.MustCompile(`\b[A-HJ-NPR-Z0-9]{17}\b`)
	rareCount := map[int]int{} // pseudo-word rank → messages holding it
	b := &Batch{}
	start := time.Now()
	winStart, worst := start, 0.0
	c.Messages(n, func(m *corpus.Message) bool {
		for _, w := range strings.Fields(strings.ToLower(m.Text)) {
			if k, ok := c.RareRank(strings.Trim(w, ".,!?")); ok {
				rareCount[k]++
			}
		}
		if samples["partno"] == "" && m.ID > int64(n/2) {
			samples["partno"] = reVAG.FindString(m.Text)
		}
		if samples["vin"] == "" && m.ID > int64(n/3) {
			samples["vin"] = reVIN.FindString(m.Text)
		}
		b.Messages = append(b.Messages, toMessage(m))
		if len(b.Messages) == 1000 {
			if err := x.Apply(ctx, b); err != nil {
				t.Fatal(err)
			}
			b.Messages = b.Messages[:0]
			if m.ID%100_000 == 0 {
				now := time.Now()
				rate := 100_000 / now.Sub(winStart).Seconds()
				if worst == 0 || rate < worst {
					worst = rate
				}
				t.Logf("%d messages, last 100k at %.0f/s", m.ID, rate)
				winStart = now
			}
		}
		return true
	})
	if err := x.Apply(ctx, b); err != nil {
		t.Fatal(err)
	}
	indexTook := time.Since(start)
	b = &Batch{}
	cstart := time.Now()
	for i := range c.Contacts {
		b.Contacts = append(b.Contacts, toContact(&c.Contacts[i]))
		if len(b.Contacts) == 1000 || i == len(c.Contacts)-1 {
			if err := x.Apply(ctx, b); err != nil {
				t.Fatal(err)
			}
			b.Contacts = b.Contacts[:0]
		}
	}
	contactsTook := time.Since(cstart)
	heap, rss, peak := memory()
	// Let bleve's background merging settle (the segment count stops
	// moving) before measuring the size and the queries: in production
	// messages trickle in and merges keep up.
	settle := time.Now()
	for last, still := -1, 0; still < 3 && time.Since(settle) < 4*time.Minute; {
		time.Sleep(5 * time.Second)
		if n := x.Stats().Segments; n == last {
			still++
		} else {
			last, still = n, 0
		}
	}
	t.Logf("merges settled in %s", time.Since(settle).Round(time.Second))
	st := x.Stats()
	incSegments := st.Segments
	bleveRate := float64(n) / indexTook.Seconds()
	say("\n## bleve (incremental, Apply in batches of 1000)\n")
	say("- messages: %d in %s = **%.0f messages/s** (slowest 100k window: %.0f/s)", n, indexTook.Round(time.Millisecond), bleveRate, worst)
	say("- contacts: %d in %s", nc, contactsTook.Round(time.Millisecond))
	say("- index on disk: %.1f MiB = **%.0f bytes/message** (all documents: %d, segments: %d)", float64(st.DiskBytes)/(1<<20), float64(st.DiskBytes)/float64(n), st.Docs, st.Segments)
	say("- memory after indexing: Go heap in use %.0f MiB, RSS %.0f MiB, peak RSS so far %.0f MiB", heap, rss, peak)

	// 2. The queries.
	hot := c.Contacts[0]
	var plate string
	for _, ct := range c.Contacts[:500] {
		if p := ct.Attributes["plate"]; p != "" && ct.Lang == "it" {
			plate = p
			break
		}
	}
	var surname string
	for _, ct := range c.Contacts {
		if f := strings.Fields(ct.Name); len(f) == 2 && ct.Lang == "it" && !strings.HasSuffix(f[0], ".") {
			surname = f[1]
			break
		}
	}
	// A rare term (in 3 messages) and a less rare one (about 100).
	rare := func(lo, hi int) string {
		best := -1
		for k, n := range rareCount {
			if n >= lo && n <= hi && (best < 0 || k < best) {
				best = k
			}
		}
		if best < 0 {
			return "zzzz"
		}
		return c.Rare(best)
	}
	rare3, rare100 := rare(3, 3), rare(80, 120)
	now := c.Now
	queries := []benchQuery{
		{name: "common word (it)", q: Query{Q: "grazie"}},
		{name: "common word (en)", q: Query{Q: "thanks"}},
		{name: "word (it)", q: Query{Q: "appuntamento"}},
		{name: "two words (it)", q: Query{Q: "divano velluto"}},
		{name: "phrase (it)", q: Query{Q: `"velluto verde"`}},
		{name: "phrase with stop word", q: Query{Q: `"mal di denti"`}},
		{name: "typo (it)", q: Query{Q: "appuntmento"}, note: "no typo tolerance: 0 hits"},
		{name: "typo (en)", q: Query{Q: "apointment"}, note: "no typo tolerance: 0 hits"},
		{name: "rare term", q: Query{Q: rare3}},
		{name: "less rare term", q: Query{Q: rare100}},
		{name: "common + rare", q: Query{Q: "collezione " + rare100}},
		{name: "plate", q: Query{Q: plate}},
		{name: "part number", q: Query{Q: samples["partno"]}},
		{name: "VIN", q: Query{Q: samples["vin"]}},
		{name: "explicit prefix", q: Query{Q: "puliz*"}},
		{name: "as-you-type prefix", q: Query{Q: "canap"}},
		{name: "french, accents folded", q: Query{Q: "canape velours"}},
		{name: "french elision", q: Query{Q: "ecole"}},
		{name: "german", q: Query{Q: "Termin verschieben"}},
		{name: "spanish plural", q: Query{Q: "citas limpieza"}, note: "no stemming: citas ≠ cita"},
		{name: "english stemming", q: Query{Q: "booking appointments"}, note: "no stemming"},
		{name: "word + status", q: Query{Q: "preventivo", Status: "open"}},
		{name: "word + last 30 days", q: Query{Q: "sofa", From: now.AddDate(0, 0, -30)}},
		{name: "word + contact", q: Query{Q: "grazie", ContactID: hot.ID}},
		{name: "word + label + direction", q: Query{Q: "ordine", LabelID: 3, Direction: "inbound"}},
		{name: "word + type", q: Query{Q: "foto", MessageType: "image"}},
		{name: "word + agent", q: Query{Q: "preventivo", AgentID: 3}},
		{name: "common, by date", q: Query{Q: "ok", Sort: SortDate}},
		{name: "word + facets", q: Query{Q: "divano", Facets: true}},
		{name: "contact name (+messages)", q: Query{Q: surname, Kinds: []string{KindContact, KindMessage}}},
		{name: "conversation, by date", q: Query{ConversationID: 1, Sort: SortDate}},
	}
	for i := range queries {
		if len(queries[i].q.Kinds) == 0 {
			queries[i].q.Kinds = []string{KindMessage}
		}
		queries[i].q.Now = now
	}
	bleveLat := make([]latencies, len(queries))
	bleveTotal := make([]uint64, len(queries))
	for i, bq := range queries { // warm up, and the hit counts
		r, err := x.Search(ctx, bq.q)
		if err != nil {
			t.Fatalf("%s: %v", bq.name, err)
		}
		bleveTotal[i] = r.Total
	}
	qstart := time.Now()
	for range rounds {
		for i, bq := range queries {
			s := time.Now()
			if _, err := x.Search(ctx, bq.q); err != nil {
				t.Fatal(err)
			}
			bleveLat[i] = append(bleveLat[i], time.Since(s))
		}
	}
	bleveQTook := time.Since(qstart)
	qheap, qrss, qpeak := memory()

	// 3. SQLite FTS5 on the same corpus.
	db, ftsLoad, ftsBytes, dbBytes := loadFTS(t, filepath.Join(dir, "fts.db"), c, n)
	defer db.Close()
	ftsRate := float64(n) / ftsLoad.Seconds()
	ftsLat := make([]latencies, len(queries))
	ftsTotal := make([]int, len(queries))
	for i, bq := range queries {
		total, err := ftsSearch(ctx, db, bq.q)
		if err != nil {
			t.Fatalf("fts %s: %v", bq.name, err)
		}
		ftsTotal[i] = total
	}
	for range rounds {
		for i, bq := range queries {
			s := time.Now()
			if _, err := ftsSearch(ctx, db, bq.q); err != nil {
				t.Fatal(err)
			}
			ftsLat[i] = append(ftsLat[i], time.Since(s))
		}
	}
	say("\n## SQLite FTS5 (modernc.org/sqlite, unicode61 remove_diacritics 2)\n")
	say("- load: %d messages (row + FTS row, transactions of 1000) in %s = **%.0f messages/s**", n, ftsLoad.Round(time.Millisecond), ftsRate)
	say("- FTS5 index: %.1f MiB = **%.0f bytes/message** (whole database with the text: %.1f MiB)", float64(ftsBytes)/(1<<20), float64(ftsBytes)/float64(n), float64(dbBytes)/(1<<20))

	// 4. A full rebuild from SQLite through the Source interface.
	var lastP time.Time
	rstart := time.Now()
	err = x.Rebuild(ctx, sqliteSource{db}, func(done, total int) {
		if time.Since(lastP) > 20*time.Second {
			lastP = time.Now()
			t.Logf("rebuild %d/%d", done, total)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	rebuildTook := time.Since(rstart)
	_, rrss, rpeak := memory()
	st = x.Stats()
	say("\n## rebuild from SQLite (Source reads pages of %d; one reader goroutine ahead of the indexer)\n", RebuildPage)
	say("- %d documents in %s = **%.0f messages/s** (merged to %d segment(s) before the swap); index %.1f MiB = %.0f bytes/message; RSS %.0f MiB, peak RSS %.0f MiB",
		st.Docs, rebuildTook.Round(time.Millisecond), float64(n)/rebuildTook.Seconds(), st.Segments, float64(st.DiskBytes)/(1<<20), float64(st.DiskBytes)/float64(n), rrss, rpeak)
	same := 0
	for i, bq := range queries {
		r, err := x.Search(ctx, bq.q)
		if err != nil {
			t.Fatal(err)
		}
		if r.Total == bleveTotal[i] {
			same++
		} else {
			say("  - %s: %d hits rebuilt, %d incremental", bq.name, r.Total, bleveTotal[i])
		}
	}
	say("- rebuilt index: %d of %d queries give the same totals as the incremental one", same, len(queries))
	rebuiltLat := make([]latencies, len(queries))
	for range rounds {
		for i, bq := range queries {
			s := time.Now()
			if _, err := x.Search(ctx, bq.q); err != nil {
				t.Fatal(err)
			}
			rebuiltLat[i] = append(rebuiltLat[i], time.Since(s))
		}
	}
	say("\n## queries: %d rounds of %d queries, one at a time, page of 20 + total (+ facets where asked)\n", rounds, len(queries))
	say("bleve: the incremental index (%d segments), then the rebuilt one (1 segment). Times in ms.\n", incSegments)
	say("| query | text | bleve hits | p50 | p95 | p99 | rebuilt p50 | p95 | p99 | FTS5 hits | FTS5 p50 | p95 | p99 | FTS5 note |")
	say("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
	var allB, allR, allF latencies
	for i, bq := range queries {
		allB = append(allB, bleveLat[i]...)
		allR = append(allR, rebuiltLat[i]...)
		allF = append(allF, ftsLat[i]...)
		text := bq.q.Q
		if bq.q.Status != "" || bq.q.LabelID != 0 || bq.q.ContactID != 0 || !bq.q.From.IsZero() || bq.q.MessageType != "" || bq.q.AgentID != 0 || bq.q.ConversationID != 0 {
			text += " +filter"
		}
		say("| %s | `%s` | %d | %s | %s | %s | %s | %s | %s | %d | %s | %s | %s | %s |", bq.name, strings.ReplaceAll(text, "|", "\\|"),
			bleveTotal[i], ms(bleveLat[i].pct(.5)), ms(bleveLat[i].pct(.95)), ms(bleveLat[i].pct(.99)),
			ms(rebuiltLat[i].pct(.5)), ms(rebuiltLat[i].pct(.95)), ms(rebuiltLat[i].pct(.99)),
			ftsTotal[i], ms(ftsLat[i].pct(.5)), ms(ftsLat[i].pct(.95)), ms(ftsLat[i].pct(.99)), bq.note)
	}
	say("| **all queries** | | | **%s** | **%s** | **%s** | **%s** | **%s** | **%s** | | **%s** | **%s** | **%s** | |",
		ms(allB.pct(.5)), ms(allB.pct(.95)), ms(allB.pct(.99)), ms(allR.pct(.5)), ms(allR.pct(.95)), ms(allR.pct(.99)),
		ms(allF.pct(.5)), ms(allF.pct(.95)), ms(allF.pct(.99)))
	say("\nbleve: %d searches in %s; memory after the queries: Go heap in use %.0f MiB, RSS %.0f MiB, peak RSS %.0f MiB",
		rounds*len(queries), bleveQTook.Round(time.Millisecond), qheap, qrss, qpeak)

	say("\nload average at the end %s", loadAvg())
}

// loadFTS writes the corpus to a SQLite database shaped like sendbox's
// (conversations with status and labels, messages) with an external-content
// FTS5 table over the message text, and returns the load time and sizes.
func loadFTS(t *testing.T, path string, c *corpus.Corpus, n int) (*sql.DB, time.Duration, int64, int64) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=cache_size(-32000)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	for _, s := range []string{
		`CREATE TABLE contacts (id INTEGER PRIMARY KEY, name TEXT, phone TEXT, username TEXT, email TEXT, notes TEXT, tags TEXT, attributes TEXT)`,
		`CREATE TABLE conversations (id INTEGER PRIMARY KEY, contact_id INTEGER, agent_id INTEGER, status TEXT)`,
		`CREATE TABLE conversation_labels (conversation_id INTEGER, label_id INTEGER, PRIMARY KEY (conversation_id, label_id)) WITHOUT ROWID`,
		`CREATE TABLE messages (id INTEGER PRIMARY KEY, conversation_id INTEGER, contact_id INTEGER, agent_id INTEGER,
			direction TEXT, type TEXT, at INTEGER, text TEXT)`,
		`CREATE INDEX messages_conversation ON messages (conversation_id, at)`,
		`CREATE INDEX messages_contact ON messages (contact_id, at)`,
		`CREATE INDEX messages_at ON messages (at)`,
		`CREATE VIRTUAL TABLE messages_fts USING fts5 (text, content='messages', content_rowid='id', tokenize="unicode61 remove_diacritics 2")`,
		`CREATE VIRTUAL TABLE contacts_fts USING fts5 (name, phone, username, email, tags, attributes, notes, content='', tokenize="unicode61 remove_diacritics 2")`,
	} {
		if _, err := db.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	tx := func(fn func(*sql.Tx)) {
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		fn(tx)
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	tx(func(tx *sql.Tx) {
		for _, ct := range c.Contacts {
			attrs, _ := json.Marshal(ct.Attributes)
			var vals []string
			for _, v := range ct.Attributes {
				vals = append(vals, v)
			}
			tags := strings.Join(ct.Tags, " ")
			exec(t, tx, `INSERT INTO contacts VALUES (?,?,?,?,?,?,?,?)`, ct.ID, ct.Name, ct.Phone, ct.Username, ct.Email, ct.Notes, tags, string(attrs))
			exec(t, tx, `INSERT INTO contacts_fts (rowid, name, phone, username, email, tags, attributes, notes) VALUES (?,?,?,?,?,?,?,?)`,
				ct.ID, ct.Name, onlyDigits(ct.Phone), ct.Username, ct.Email, tags, strings.Join(vals, " "), ct.Notes)
		}
		for _, cv := range c.Conversations {
			exec(t, tx, `INSERT INTO conversations VALUES (?,?,?,?)`, cv.ID, cv.ContactID, cv.AgentID, cv.Status)
			for _, l := range cv.Labels {
				exec(t, tx, `INSERT INTO conversation_labels VALUES (?,?)`, cv.ID, l)
			}
		}
	})
	start := time.Now()
	var batch []*corpus.Message
	flush := func() {
		tx(func(tx *sql.Tx) {
			ins, err := tx.Prepare(`INSERT INTO messages VALUES (?,?,?,?,?,?,?,?)`)
			if err != nil {
				t.Fatal(err)
			}
			fts, err := tx.Prepare(`INSERT INTO messages_fts (rowid, text) VALUES (?,?)`)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range batch {
				if _, err := ins.Exec(m.ID, m.ConversationID, m.ContactID, m.AgentID, m.Direction, m.Type, m.At.Unix(), m.Text); err != nil {
					t.Fatal(err)
				}
				if m.Text != "" {
					if _, err := fts.Exec(m.ID, m.Text); err != nil {
						t.Fatal(err)
					}
				}
			}
			ins.Close()
			fts.Close()
		})
		batch = batch[:0]
	}
	c.Messages(n, func(m *corpus.Message) bool {
		batch = append(batch, m)
		if len(batch) == 1000 {
			flush()
		}
		return true
	})
	flush()
	took := time.Since(start)
	if _, err := db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	var ftsBytes int64
	if err := db.QueryRow(`SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name LIKE 'messages_fts%'`).Scan(&ftsBytes); err != nil {
		t.Logf("dbstat: %v", err)
	}
	fi, _ := os.Stat(path)
	db.SetMaxOpenConns(4)
	return db, took, ftsBytes, fi.Size()
}

func exec(t *testing.T, tx *sql.Tx, q string, args ...any) {
	t.Helper()
	if _, err := tx.Exec(q, args...); err != nil {
		t.Fatal(err)
	}
}

// ftsMatch translates a user query the way a plain FTS5 search would:
// quoted tokens ANDed, the last word a prefix, phrases as phrases, NOT for
// excluded words. No stemming, no typos, no per-language analysis.
func ftsMatch(q string) string {
	var pos, neg []string
	quote := func(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
	for _, c := range parseQuery(q) {
		e := quote(c.text)
		if c.prefix && !c.phrase {
			e += "*"
		}
		if c.not {
			neg = append(neg, e)
		} else {
			pos = append(pos, e)
		}
	}
	if len(pos) == 0 {
		return ""
	}
	s := strings.Join(pos, " AND ")
	for _, n := range neg {
		s += " NOT " + n
	}
	return s
}

// ftsSearch runs q on SQLite the way the panel would without bleve: a page
// of 20 and the total (and the facets when asked), the filters as WHERE
// clauses. It returns the total.
func ftsSearch(ctx context.Context, db *sql.DB, q Query) (int, error) {
	var where []string
	var args []any
	match := ftsMatch(q.Q)
	from := `messages m JOIN conversations c ON c.id = m.conversation_id`
	order := `m.at DESC`
	if match != "" {
		from = `messages_fts f JOIN messages m ON m.id = f.rowid JOIN conversations c ON c.id = m.conversation_id`
		where = append(where, `messages_fts MATCH ?`)
		args = append(args, match)
		if q.Sort != SortDate {
			order = `f.rank`
		}
	} else if strings.TrimSpace(q.Q) != "" {
		return 0, nil
	}
	if !q.From.IsZero() {
		where, args = append(where, `m.at >= ?`), append(args, q.From.Unix())
	}
	if !q.To.IsZero() {
		where, args = append(where, `m.at < ?`), append(args, q.To.Unix())
	}
	for _, f := range []struct {
		col string
		v   int64
	}{{"m.contact_id", q.ContactID}, {"m.conversation_id", q.ConversationID}, {"m.agent_id", q.AgentID}} {
		if f.v != 0 {
			where, args = append(where, f.col+` = ?`), append(args, f.v)
		}
	}
	for _, f := range []struct{ col, v string }{{"c.status", q.Status}, {"m.direction", q.Direction}, {"m.type", q.MessageType}} {
		if f.v != "" {
			where, args = append(where, f.col+` = ?`), append(args, f.v)
		}
	}
	if q.LabelID != 0 {
		where = append(where, `EXISTS (SELECT 1 FROM conversation_labels l WHERE l.conversation_id = m.conversation_id AND l.label_id = ?)`)
		args = append(args, q.LabelID)
	}
	w := ""
	if len(where) > 0 {
		w = " WHERE " + strings.Join(where, " AND ")
	}
	total := 0
	if slices.Contains(q.Kinds, KindMessage) || len(q.Kinds) == 0 {
		rows, err := db.QueryContext(ctx, `SELECT m.id, m.conversation_id, m.contact_id, m.at FROM `+from+w+` ORDER BY `+order+` LIMIT 20`, args...)
		if err != nil {
			return 0, err
		}
		for rows.Next() {
			var id, conv, contact, at int64
			if err := rows.Scan(&id, &conv, &contact, &at); err != nil {
				rows.Close()
				return 0, err
			}
		}
		rows.Close()
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM `+from+w, args...).Scan(&total); err != nil {
			return 0, err
		}
		if q.Facets {
			for _, g := range []string{"m.type", "m.direction", "c.status"} {
				if err := drain(db.QueryContext(ctx, `SELECT `+g+`, count(*) FROM `+from+w+` GROUP BY 1`, args...)); err != nil {
					return 0, err
				}
			}
			if err := drain(db.QueryContext(ctx, `SELECT l.label_id, count(*) FROM `+from+` JOIN conversation_labels l ON l.conversation_id = m.conversation_id`+w+` GROUP BY 1`, args...)); err != nil {
				return 0, err
			}
			week, month := q.Now.AddDate(0, 0, -7).Unix(), q.Now.AddDate(0, 0, -30).Unix()
			if err := drain(db.QueryContext(ctx, fmt.Sprintf(`SELECT sum(m.at >= %d), sum(m.at >= %d), sum(m.at < %d) FROM `, week, month, month)+from+w, args...)); err != nil {
				return 0, err
			}
		}
	}
	if slices.Contains(q.Kinds, KindContact) && match != "" {
		var nc int
		if err := drain(db.QueryContext(ctx, `SELECT rowid FROM contacts_fts WHERE contacts_fts MATCH ? ORDER BY rank LIMIT 20`, match)); err != nil {
			return 0, err
		}
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM contacts_fts WHERE contacts_fts MATCH ?`, match).Scan(&nc); err != nil {
			return 0, err
		}
		total += nc
	}
	return total, nil
}

func drain(rows *sql.Rows, err error) error {
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
	}
	return rows.Err()
}

// sqliteSource is the Source a rebuild reads, over the benchmark database,
// with the queries the store would run.
type sqliteSource struct{ db *sql.DB }

func (s sqliteSource) Messages(ctx context.Context, afterID int64, limit int) ([]Message, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT m.id, m.conversation_id, m.contact_id, m.agent_id, m.direction, m.type, c.status, m.at, m.text,
		(SELECT group_concat(label_id) FROM conversation_labels l WHERE l.conversation_id = m.conversation_id)
		FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE m.id > ? ORDER BY m.id LIMIT ?`, afterID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		var m Message
		var at int64
		var labels sql.NullString
		if err := rows.Scan(&m.ID, &m.ConversationID, &m.ContactID, &m.AgentID, &m.Direction, &m.Type, &m.Status, &at, &m.Text, &labels); err != nil {
			return nil, err
		}
		m.At = time.Unix(at, 0)
		for _, l := range strings.Split(labels.String, ",") {
			if v, err := strconv.ParseInt(l, 10, 64); err == nil {
				m.Labels = append(m.Labels, v)
			}
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

func (s sqliteSource) Contacts(ctx context.Context, afterID int64, limit int) ([]Contact, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, phone, username, email, notes, tags, attributes FROM contacts WHERE id > ? ORDER BY id LIMIT ?`, afterID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Contact
	for rows.Next() {
		var c Contact
		var tags, attrs string
		if err := rows.Scan(&c.ID, &c.Name, &c.Phone, &c.Username, &c.Email, &c.Notes, &tags, &attrs); err != nil {
			return nil, err
		}
		c.Tags = strings.Fields(tags)
		_ = json.Unmarshal([]byte(attrs), &c.Attributes)
		out = append(out, c)
	}
	return out, rows.Err()
}

func (s sqliteSource) KB(ctx context.Context, afterID string, limit int) ([]KBChunk, error) {
	return nil, nil
}

func (s sqliteSource) Count(ctx context.Context) (messages, contacts, kb int, err error) {
	if err = s.db.QueryRowContext(ctx, `SELECT count(*) FROM messages`).Scan(&messages); err != nil {
		return
	}
	err = s.db.QueryRowContext(ctx, `SELECT count(*) FROM contacts`).Scan(&contacts)
	return
}

package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"sendbox/store"
)

// uploadImport posts a CSV file to the contacts import API and returns the
// import's id.
func uploadImport(t *testing.T, p *proc, key, name string, data []byte) int64 {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest("POST", "http://"+p.addr+"/api/v1/contacts/imports", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out struct{ Data struct{ ID int64 } }
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(b, &out) != nil || out.Data.ID == 0 {
		t.Fatalf("upload %s: %d %s", name, resp.StatusCode, b)
	}
	return out.Data.ID
}

// TestImportCrashSurvivesKills imports 20,000 rows through the API and kills
// sendbox with SIGKILL three times while the job runs (once while it reads
// the whole file, twice while it writes). After the restarts the job ends
// once: every row is counted once in the summary, the contacts are exactly
// the file's, the consent ledger has one import record per consenting
// contact, the uploaded file is gone, and importing the file again
// changes nothing.
func TestImportCrashSurvivesKills(t *testing.T) {
	if testing.Short() {
		t.Skip("a crash test of the built binary")
	}
	const n = 20_000    // distinct numbers in the file
	const seeded = 1000 // contacts that exist before it, without consent
	began := time.Now()
	phone := func(i int) string { return fmt.Sprintf("39347%07d", i) }
	name := func(i int) string { return fmt.Sprintf("Cliente %d", i) }
	optsIn := func(i int) bool { return i%3 == 0 }

	// The seed: half keep their name in the big file, half get a new one.
	var seed bytes.Buffer
	seed.WriteString("phone,name\n")
	for i := range seeded {
		nm := name(i)
		if i%2 == 1 {
			nm = "Vecchio " + nm
		}
		fmt.Fprintf(&seed, "+%s,%s\n", phone(i), nm)
	}
	// The big file, with duplicates (the first row of a number wins) and
	// rows that cannot be read, spread through it.
	var big bytes.Buffer
	big.WriteString("\uFEFFTelefono;Nome;Consenso;Data consenso\r\n")
	rows, dups, bad := 0, 0, 0
	for i := range n {
		consent, at := "", ""
		if optsIn(i) {
			consent, at = "sì", "2026-03-01"
		}
		fmt.Fprintf(&big, "+%s;%s;%s;%s\r\n", phone(i), name(i), consent, at)
		rows++
		if i%200 == 199 {
			fmt.Fprintf(&big, "%s;Doppione;sì;\r\n", phone(i-100))
			rows, dups = rows+1, dups+1
		}
		if i%400 == 7 {
			fmt.Fprintf(&big, "12%d;Nessuno;;\r\n", i)
			rows, bad = rows+1, bad+1
		}
	}
	created, updated, unchanged := n-seeded, 0, 0
	for i := range seeded {
		if i%2 == 1 || optsIn(i) {
			updated++
		} else {
			unchanged++
		}
	}

	dir := t.TempDir()
	key, errOut, code := runCLI(t, []string{"SENDBOX_DATA=" + dir}, "apikey", "create", "--name", "crash", "--role", "admin")
	if code != 0 {
		t.Fatal(errOut)
	}
	key = strings.TrimSpace(key)
	p := start(t, dir)
	defer func() { stopProc(p) }()

	db, err := sql.Open("sqlite", filepath.Join(dir, "sendbox.db")+"?_pragma=busy_timeout(10000)&_pragma=query_only(ON)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	job := func(id int64) (state string, applied int) {
		db.QueryRow("SELECT state, applied FROM import_jobs WHERE id = ?", id).Scan(&state, &applied)
		return state, applied
	}
	waitDone := func(id int64, within time.Duration) {
		t.Helper()
		for deadline := time.Now().Add(within); ; time.Sleep(20 * time.Millisecond) {
			if s, _ := job(id); s == store.ImportDone {
				return
			} else if s == store.ImportFailed || time.Now().After(deadline) {
				t.Fatalf("import %d: %s after %s\n%s", id, s, within, p.log)
			}
		}
	}
	startImport := func(id int64) {
		t.Helper()
		if c, b := api(t, p, key, "POST", fmt.Sprintf("/api/v1/contacts/imports/%d/start", id), map[string]any{"country": "IT"}); c != http.StatusAccepted {
			t.Fatalf("start %d: %d %s", id, c, b)
		}
	}

	seedID := uploadImport(t, p, key, "seed.csv", seed.Bytes())
	startImport(seedID)
	waitDone(seedID, 30*time.Second)

	id := uploadImport(t, p, key, "pazienti.csv", big.Bytes())
	startImport(id)
	// Kill 1 while the whole file is read, 2 and 3 while batches commit.
	kills := []func(state string, applied int) bool{
		func(s string, _ int) bool { return s == store.ImportValidating },
		func(s string, a int) bool { return s == store.ImportImporting && a >= 5000 },
		func(s string, a int) bool { return s == store.ImportImporting && a >= 12000 },
	}
	var killedAt []string
	for k, when := range kills {
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(2 * time.Millisecond) {
			s, a := job(id)
			if when(s, a) {
				break
			}
			if s == store.ImportDone || s == store.ImportFailed || time.Now().After(deadline) {
				t.Fatalf("kill %d never came: the import is %s with %d rows applied\n%s", k+1, s, a, p.log)
			}
		}
		p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
		s, a := job(id)
		if s == store.ImportDone {
			t.Fatalf("kill %d came after the import ended", k+1)
		}
		killedAt = append(killedAt, fmt.Sprintf("%s at %d", s, a))
		p = start(t, dir)
	}
	waitDone(id, 60*time.Second)
	// The file is deleted just after the job ends, then forgotten: wait
	// for that before reading the job.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var path string
		if db.QueryRow("SELECT path FROM import_jobs WHERE id = ?", id).Scan(&path); path == "" {
			break
		}
	}

	var j store.ImportJob
	c := &j.Counts
	if err := db.QueryRow(`SELECT total_rows, applied, created, updated, unchanged, skipped, duplicates, rejected, path
		FROM import_jobs WHERE id = ?`, id).Scan(&j.Rows, &j.Applied, &c.Created, &c.Updated, &c.Unchanged, &c.Skipped,
		&c.Duplicates, &c.Rejected, &j.Path); err != nil {
		t.Fatal(err)
	}
	var bads []string
	if want := (store.ImportCounts{Created: created, Updated: updated, Unchanged: unchanged, Duplicates: dups, Rejected: bad}); j.Counts != want {
		bads = append(bads, fmt.Sprintf("summary %+v, want %+v", j.Counts, want))
	}
	if sum := c.Created + c.Updated + c.Unchanged + c.Skipped + c.Duplicates + c.Rejected; sum != rows || j.Rows != rows || j.Applied != n {
		bads = append(bads, fmt.Sprintf("%d rows counted, %d read, %d applied, of %d rows (%d valid)", sum, j.Rows, j.Applied, rows, n))
	}
	var rejects int
	db.QueryRow("SELECT COUNT(*) FROM import_rejects WHERE job_id = ?", id).Scan(&rejects)
	if rejects != dups+bad {
		bads = append(bads, fmt.Sprintf("%d rejected rows kept, want %d", rejects, dups+bad))
	}

	// The contacts: exactly the file's numbers, each with its row's name and consent.
	got := map[string][2]string{}
	res, err := db.Query("SELECT wa_id, name, consent FROM contacts")
	if err != nil {
		t.Fatal(err)
	}
	for res.Next() {
		var w, nm, cs string
		res.Scan(&w, &nm, &cs)
		got[w] = [2]string{nm, cs}
	}
	res.Close()
	wrong := 0
	for i := range n {
		want := [2]string{name(i), store.ConsentUnknown}
		if optsIn(i) {
			want[1] = store.ConsentOptedIn
		}
		if got[phone(i)] != want {
			wrong++
		}
	}
	if len(got) != n || wrong > 0 {
		bads = append(bads, fmt.Sprintf("%d contacts, want %d; %d differ from their row", len(got), n, wrong))
	}

	// The ledger: one import record per consenting contact, none twice.
	ledger := func() (records, contacts, twice int) {
		db.QueryRow(`SELECT COUNT(*), COUNT(DISTINCT contact_id), (SELECT COUNT(*) FROM (SELECT contact_id FROM consent_ledger
			WHERE source = 'import' GROUP BY contact_id, purpose HAVING COUNT(*) > 1)) FROM consent_ledger WHERE source = 'import'`).
			Scan(&records, &contacts, &twice)
		return
	}
	consenting := 0
	for i := range n {
		if optsIn(i) {
			consenting++
		}
	}
	records, withRecord, twice := ledger()
	if records != consenting || withRecord != consenting || twice != 0 {
		bads = append(bads, fmt.Sprintf("consent ledger: %d import records for %d contacts (%d with more than one), want %d",
			records, withRecord, twice, consenting))
	}
	if files, _ := os.ReadDir(filepath.Join(dir, "imports")); j.Path != "" || len(files) != 0 {
		bads = append(bads, fmt.Sprintf("the uploaded file is still kept: %q, %d files in the folder", j.Path, len(files)))
	}
	if len(bads) > 0 {
		t.Fatalf("after kills (%s):\n%s\n%s", strings.Join(killedAt, ", "), strings.Join(bads, "\n"), p.log)
	}

	// The same file again changes nothing.
	again := uploadImport(t, p, key, "pazienti.csv", big.Bytes())
	startImport(again)
	waitDone(again, 60*time.Second)
	if err := db.QueryRow("SELECT created, updated, unchanged, skipped, duplicates, rejected FROM import_jobs WHERE id = ?", again).
		Scan(&c.Created, &c.Updated, &c.Unchanged, &c.Skipped, &c.Duplicates, &c.Rejected); err != nil {
		t.Fatal(err)
	}
	if want := (store.ImportCounts{Unchanged: n, Duplicates: dups, Rejected: bad}); *c != want {
		t.Errorf("the same file again: %+v, want %+v", *c, want)
	}
	var contacts int
	db.QueryRow("SELECT COUNT(*) FROM contacts").Scan(&contacts)
	if r2, _, _ := ledger(); r2 != records || contacts != n {
		t.Errorf("the same file again: %d ledger records (was %d), %d contacts", r2, records, contacts)
	}
	t.Logf("%d rows, %d contacts through 3 kills (%s) in %s", rows, n, strings.Join(killedAt, ", "), time.Since(began).Round(time.Millisecond))
}

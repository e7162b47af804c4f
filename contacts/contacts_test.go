package contacts

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sendbox/store"
)

func TestNormalize(t *testing.T) {
	for _, c := range []struct{ raw, region, want string }{
		{"+39 347 111 0001", "", "393471110001"},
		{"0039 347 111 0001", "FR", "393471110001"},
		{"347 111 0001", "IT", "393471110001"},
		{"393471110001", "", "393471110001"}, // a wa_id, no default country
		{"06 12 34 56 78", "FR", "33612345678"},
		{"+1 (212) 555-0123", "IT", "12125550123"},
		{"347", "IT", ""},
		{"hello", "IT", ""},
		{"", "IT", ""},
		{"347 111 0001", "", ""}, // without a country: read as +347…, no such number
	} {
		got, err := Normalize(c.raw, c.region)
		if got != c.want || (c.want == "") != (err != nil) {
			t.Errorf("Normalize(%q, %q) = %q, %v; want %q", c.raw, c.region, got, err, c.want)
		}
	}
	if RegionOf("+39 06 1234 5678") != "IT" || RegionOf("06 1234") != "" {
		t.Error("RegionOf")
	}
}

func readAll(t *testing.T, data string) ([][]string, error) {
	t.Helper()
	rd, err := NewReader(strings.NewReader(data))
	if err != nil {
		return nil, err
	}
	var out [][]string
	for {
		rec, _, err := rd.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, append([]string(nil), rec...))
	}
}

func TestReaderSeparatorAndBOM(t *testing.T) {
	for name, data := range map[string]string{
		"comma":     "phone,name\r\n+393471110001,\"Rossi; Maria\"\r\n",
		"semicolon": "phone;name\n+393471110001;\"Rossi, Maria\"\n",
		"bom":       "\uFEFFphone;name\n+393471110001;\"Rossi, Maria\"\n",
	} {
		recs, err := readAll(t, data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(recs) != 2 || recs[0][0] != "phone" || len(recs[1]) != 2 || !strings.Contains(recs[1][1], "Maria") {
			t.Errorf("%s: %q", name, recs)
		}
	}
	rd, _ := NewReader(strings.NewReader("\uFEFFa;b\n"))
	if !rd.BOM || rd.Comma != ';' {
		t.Errorf("BOM %v comma %q", rd.BOM, rd.Comma)
	}
}

func TestReaderRefusesWhatIsNotCSV(t *testing.T) {
	for name, data := range map[string]string{
		"xlsx":   "PK\x03\x04\x14\x00\x06\x00",
		"utf16":  "\xff\xfep\x00h\x00",
		"latin1": "phone,name\n+393471110001,Nicol\xe0\n",
		"binary": "%PDF-1.4\x00\x01\x02",
		"empty":  "  \n",
	} {
		_, err := readAll(t, data)
		var fe *FileError
		if !errors.As(err, &fe) {
			t.Errorf("%s: %v, want a FileError", name, err)
		}
	}
}

func TestReaderQuotingErrorHasLineAndCharacter(t *testing.T) {
	data := "phone,name\n+393471110001,Maria\n+393471110002,\"Luca\" Bianchi\n"
	_, err := readAll(t, data)
	var fe *FileError
	if !errors.As(err, &fe) || fe.Line != 3 || fe.Char == 0 {
		t.Fatalf("%v", err)
	}
	if !strings.Contains(err.Error(), "line 3, character") {
		t.Error(err)
	}
	_, err = readAll(t, "phone,name\n+393471110001,\"Maria\n")
	if !errors.As(err, &fe) || fe.Line != 2 {
		t.Fatalf("unclosed: %v", err)
	}
}

func TestSuggestAndCheckMapping(t *testing.T) {
	got := Suggest([]string{"Telefono", "Nome", "Tags", "Consenso", "consent_at", "City", "Cellulare", "attributes.vip"})
	want := []string{Phone, Name, Tags, Consent, ConsentDate, "attributes.city", "", "attributes.vip"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Suggest = %q, want %q", got, want)
	}
	if err := CheckMapping([]string{"", Name}, 2); err == nil || !strings.Contains(err.Error(), "phone") {
		t.Errorf("no phone: %v", err)
	}
	if err := CheckMapping([]string{Phone, Name, Name}, 3); err == nil {
		t.Error("name twice accepted")
	}
	if err := CheckMapping([]string{Phone, "attributes.Bad Key"}, 2); err == nil {
		t.Error("bad attribute key accepted")
	}
	if err := CheckMapping([]string{Phone}, 2); err == nil {
		t.Error("short mapping accepted")
	}
}

func TestGuard(t *testing.T) {
	for in, want := range map[string]string{"=1+2": "'=1+2", "@SUM(A1)": "'@SUM(A1)", "-2": "'-2", "+393471110001": "+393471110001",
		"+1 cmd": "'+1 cmd", "Maria": "Maria", "": ""} {
		if got := Guard(in); got != want {
			t.Errorf("Guard(%q) = %q, want %q", in, got, want)
		}
	}
}

// testImporter is an importer over a fresh store; run processes the
// queued jobs as the worker would.
func testImporter(t *testing.T) (*Importer, *store.Store) {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(context.Background(), filepath.Join(dir, "sendbox.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return NewImporter(st, filepath.Join(dir, "imports"), nil), st
}

func (im *Importer) runQueued(t *testing.T, ctx context.Context) error {
	t.Helper()
	for {
		j, err := im.Store.NextImportJob(ctx)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := im.process(ctx, j); err != nil {
			return err
		}
	}
}

func importFile(t *testing.T, im *Importer, data string, req StartRequest) *store.ImportJob {
	t.Helper()
	ctx := context.Background()
	j, _, err := im.Upload(ctx, "list.csv", strings.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := im.Start(ctx, j.ID, req); err != nil {
		t.Fatal(err)
	}
	if err := im.runQueued(t, ctx); err != nil {
		t.Fatal(err)
	}
	j, err = im.Store.ImportJob(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func countContacts(t *testing.T, st *store.Store) int {
	t.Helper()
	_, n, _, err := st.ListContacts(context.Background(), store.ContactFilter{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

const sample = "Telefono;Nome;Tags;Consenso;Data consenso;Città\n" +
	"347 111 0001;Maria Rossi;vip, milano;sì;2026-03-01;Milano\n" +
	"+39 347 111 0002;Luca;;no;;Roma\n" +
	"0039 3471110001;Maria again;;;;\n" + // the same number as line 2
	"12;Nobody;;;;\n" + // not a number
	"347 111 0003;Anna;;forse;;\n" + // not a consent answer
	";;;;;\n" // blank: ignored

func TestImportUpsertThenReimportChangesNothing(t *testing.T) {
	im, st := testImporter(t)
	ctx := context.Background()
	j := importFile(t, im, sample, StartRequest{Mode: ModeUpsert, Country: "IT"})
	want := store.ImportCounts{Created: 2, Duplicates: 1, Rejected: 2}
	if j.State != store.ImportDone || j.Counts != want || j.Rows != 5 || j.Valid != 2 || j.Applied != 2 {
		t.Fatalf("%+v", j)
	}
	c, err := st.ContactByRecipient(ctx, "393471110001", "")
	if err != nil {
		t.Fatal(err)
	}
	c, _ = st.ContactWithTags(ctx, c.ID)
	if c.Name != "Maria Rossi" || c.Consent != store.ConsentOptedIn || c.Attributes["citta"] != "Milano" ||
		len(c.Tags) != 2 || !strings.HasPrefix(c.ConsentSource, "import: list.csv, line 2") ||
		!c.ConsentAt.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("%+v", c)
	}
	var buf bytes.Buffer
	if err := im.WriteRejected(ctx, j, &buf); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(buf.String(), "\uFEFF"))).ReadAll()
	if err != nil || len(rows) != 4 || rows[1][0] != "4" || rows[1][1] != "duplicate" || rows[2][0] != "5" ||
		!strings.Contains(rows[3][2], "consent") || rows[2][4] != "Nobody" {
		t.Errorf("rejected.csv: %v %q", err, rows)
	}

	j2 := importFile(t, im, sample, StartRequest{Mode: ModeUpsert, Country: "IT"})
	if want := (store.ImportCounts{Unchanged: 2, Duplicates: 1, Rejected: 2}); j2.Counts != want {
		t.Errorf("re-import: %+v", j2.Counts)
	}
	if n := countContacts(t, st); n != 2 {
		t.Errorf("%d contacts", n)
	}
}

func TestImportModes(t *testing.T) {
	im, st := testImporter(t)
	ctx := context.Background()
	importFile(t, im, "phone,name\n+393471110001,Maria\n", StartRequest{Mode: ModeCreate})
	data := "phone,name,tags\n+393471110001,Maria Rossi,new\n+393471110002,Luca,\n"
	j := importFile(t, im, data, StartRequest{Mode: ModeCreate})
	if want := (store.ImportCounts{Created: 1, Skipped: 1}); j.Counts != want {
		t.Errorf("create-only: %+v", j.Counts)
	}
	j = importFile(t, im, data+"+393471110003,Anna,\n", StartRequest{Mode: ModeUpdate})
	if want := (store.ImportCounts{Updated: 1, Unchanged: 1, Skipped: 1}); j.Counts != want {
		t.Errorf("update: %+v", j.Counts)
	}
	c, _ := st.ContactByRecipient(ctx, "393471110001", "")
	c, _ = st.ContactWithTags(ctx, c.ID)
	if c.Name != "Maria Rossi" || len(c.Tags) != 1 || c.Tags[0] != "new" {
		t.Errorf("%+v", c)
	}
	if _, err := st.ContactByRecipient(ctx, "393471110003", ""); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("update created a contact: %v", err)
	}
}

func TestImportDryRunWritesNothing(t *testing.T) {
	im, st := testImporter(t)
	j := importFile(t, im, sample, StartRequest{Mode: ModeUpsert, Country: "IT", DryRun: true})
	want := store.ImportCounts{Created: 2, Duplicates: 1, Rejected: 2}
	if j.State != store.ImportChecked || j.Counts != want {
		t.Fatalf("%+v", j)
	}
	if n := countContacts(t, st); n != 0 {
		t.Fatalf("a dry run wrote %d contacts", n)
	}
	// The same job, started for real, gives the same summary.
	if _, err := im.Start(context.Background(), j.ID, StartRequest{Mode: ModeUpsert, Country: "IT"}); err != nil {
		t.Fatal(err)
	}
	if err := im.runQueued(t, context.Background()); err != nil {
		t.Fatal(err)
	}
	j, _ = st.ImportJob(context.Background(), j.ID)
	if j.State != store.ImportDone || j.Counts != want || countContacts(t, st) != 2 {
		t.Errorf("%+v", j)
	}
}

func TestImportBrokenFileImportsNothing(t *testing.T) {
	im, st := testImporter(t)
	var b strings.Builder
	b.WriteString("phone,name\n")
	for i := range 50 {
		fmt.Fprintf(&b, "+3934711%05d,Name %d\n", i, i)
	}
	b.WriteString("+393471199999,\"broken\" quote\n")
	j := importFile(t, im, b.String(), StartRequest{})
	if j.State != store.ImportFailed || !strings.Contains(j.Error, "line 52") {
		t.Fatalf("%+v", j)
	}
	if n := countContacts(t, st); n != 0 {
		t.Errorf("%d contacts imported from a broken file", n)
	}
}

func TestImportDoesNotUndoAnOptOut(t *testing.T) {
	im, st := testImporter(t)
	ctx := context.Background()
	importFile(t, im, "phone,consent\n+393471110001,no\n", StartRequest{})
	j := importFile(t, im, "phone,consent\n+393471110001,yes\n", StartRequest{})
	if j.Counts.Rejected != 1 {
		t.Errorf("%+v", j.Counts)
	}
	c, _ := st.ContactByRecipient(ctx, "393471110001", "")
	if c.Consent != store.ConsentOptedOut {
		t.Errorf("consent %s", c.Consent)
	}
	later := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	j = importFile(t, im, "phone,consent,consent_at\n+393471110001,yes,"+later+"\n", StartRequest{})
	if j.Counts.Updated != 1 {
		t.Errorf("a later opt-in: %+v", j.Counts)
	}
}

func TestImportResumesAfterAStop(t *testing.T) {
	im, st := testImporter(t)
	ctx := context.Background()
	var b strings.Builder
	b.WriteString("phone,name\n")
	for i := range 2500 {
		fmt.Fprintf(&b, "+3934711%05d,Name %d\n", i, i)
	}
	j, _, err := im.Upload(ctx, "big.csv", strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := im.Start(ctx, j.ID, StartRequest{}); err != nil {
		t.Fatal(err)
	}
	im.Batch = 1000
	stop, cancel := context.WithCancel(ctx)
	im.afterBatch = cancel // the process dies after its first commit
	if err := im.runQueued(t, stop); err == nil {
		t.Fatal("no error after the stop")
	}
	j, _ = st.ImportJob(ctx, j.ID)
	if j.State != store.ImportImporting || j.Applied != 1000 || countContacts(t, st) != 1000 {
		t.Fatalf("after the stop: %+v, %d contacts", j, countContacts(t, st))
	}
	im2 := NewImporter(st, im.Dir, nil)
	if err := im2.runQueued(t, ctx); err != nil {
		t.Fatal(err)
	}
	j, _ = st.ImportJob(ctx, j.ID)
	if j.State != store.ImportDone || j.Counts != (store.ImportCounts{Created: 2500}) || countContacts(t, st) != 2500 {
		t.Errorf("after the restart: %+v, %d contacts", j, countContacts(t, st))
	}
}

func TestExportIsExcelSafe(t *testing.T) {
	im, st := testImporter(t)
	importFile(t, im, "phone,name,city,consent\n+393471110001,\"=HYPERLINK(\"\"x\"\")\",Milano,yes\n+393471110002,Luca,,\n", StartRequest{})
	var buf bytes.Buffer
	if err := Export(context.Background(), st, &buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.HasPrefix(out, "\uFEFFphone,name,email,tags,consent,consent_source,consent_at,attributes.city\r\n") {
		t.Errorf("header: %q", out)
	}
	if !strings.Contains(out, "+393471110001,\"'=HYPERLINK(\"\"x\"\")\"") || !strings.Contains(out, "opted_in,\"import: list.csv, line 2\"") ||
		strings.Count(out, "\r\n") != 3 {
		t.Errorf("%q", out)
	}
	// It imports back as it is: nothing changes.
	j := importFile(t, im, out, StartRequest{})
	if j.Counts != (store.ImportCounts{Unchanged: 2}) {
		t.Errorf("round trip: %+v (%v)", j.Counts, j.Mapping)
	}
}

// TestImportDoesNotLiftTheSuppressionList: a number that opted out and was
// then erased comes back through an import only without an opt-in.
func TestImportDoesNotLiftTheSuppressionList(t *testing.T) {
	im, st := testImporter(t)
	ctx := context.Background()
	importFile(t, im, "phone,consent\n+393471110001,no\n", StartRequest{})
	c, _ := st.ContactByRecipient(ctx, "393471110001", "")
	if _, err := st.EraseContact(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	j := importFile(t, im, "phone,name,consent\n+393471110001,Maria,yes\n+393471110002,Luca,yes\n", StartRequest{})
	if j.Counts != (store.ImportCounts{Created: 1, Rejected: 1}) {
		t.Errorf("%+v", j.Counts)
	}
	if sup, _ := st.Suppressed(ctx, "393471110001", ""); !sup {
		t.Error("the import took the number off the suppression list")
	}
	j = importFile(t, im, "phone,name\n+393471110001,Maria\n", StartRequest{})
	if j.Counts != (store.ImportCounts{Created: 1}) {
		t.Errorf("without consent: %+v", j.Counts)
	}
}

// TestImportCancelStopsAtTheNextBatch: an import discarded while it runs
// stops before its next batch; what it committed stays, the file goes.
func TestImportCancelStopsAtTheNextBatch(t *testing.T) {
	im, st := testImporter(t)
	ctx := context.Background()
	var b strings.Builder
	b.WriteString("phone,name\n")
	for i := range 50 {
		fmt.Fprintf(&b, "+39347%07d,N%d\n", i, i)
	}
	j, _, err := im.Upload(ctx, "list.csv", strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := im.Start(ctx, j.ID, StartRequest{}); err != nil {
		t.Fatal(err)
	}
	im.Batch = 10
	batches := 0
	im.afterBatch = func() {
		if batches++; batches == 2 {
			if _, err := im.Discard(ctx, j.ID); err != nil {
				t.Error(err)
			}
		}
	}
	next, err := st.NextImportJob(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := im.process(ctx, next); !errors.Is(err, store.ErrImportCancelled) {
		t.Fatalf("process after the cancel: %v", err)
	}
	j, _ = st.ImportJob(ctx, j.ID)
	if j.State != store.ImportFailed || !strings.Contains(j.Error, "cancelled after 20 of 50 rows") || j.Path != "" {
		t.Errorf("job: %+v", j)
	}
	if n := countContacts(t, st); n != 20 {
		t.Errorf("%d contacts, want the 20 committed before the cancel", n)
	}
	if _, err := os.Stat(next.Path); !os.IsNotExist(err) {
		t.Errorf("the file of a cancelled import: %v", err)
	}
}

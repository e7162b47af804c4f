package server_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"sendbox/accounts"
	"sendbox/sendboxtest"
	"sendbox/store"
)

// upload posts data as the multipart field "file" of a contacts import.
func upload(t *testing.T, a *sendboxtest.App, key, name, data string) (int, []byte) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", name)
	io.WriteString(fw, data)
	mw.Close()
	req, _ := http.NewRequest("POST", a.URL()+"/api/v1/contacts/imports", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+key)
	return doReq(t, req)
}

func doReq(t *testing.T, req *http.Request) (int, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

type importResp struct {
	Data struct {
		store.ImportJob
		Progress int
		Preview  struct {
			Delimiter string     `json:"delimiter"`
			BOM       bool       `json:"bom"`
			Columns   []string   `json:"columns"`
			Suggested []string   `json:"suggested_mapping"`
			Rows      [][]string `json:"rows"`
		}
	}
}

const importCSV = "\uFEFFTelefono;Nome;Tags;Consenso\r\n" +
	"347 111 0001;Maria Rossi;vip;sì\r\n" +
	"+39 347 111 0002;Luca;;\r\n" +
	"+39 3471110001;Maria;;\r\n" +
	"not a number;X;;\r\n"

func TestContactsImportAndExportAPI(t *testing.T) {
	a := sendboxtest.New(t)
	code, body := upload(t, a, a.Key, "clienti.csv", importCSV)
	if code != http.StatusCreated {
		t.Fatalf("upload: %d %s", code, body)
	}
	up := sendboxtest.JSON[importResp](t, body).Data
	if up.State != store.ImportUploaded || up.Preview.Delimiter != ";" || !up.Preview.BOM || len(up.Preview.Rows) != 4 ||
		fmt.Sprint(up.Preview.Suggested) != "[phone name tags consent]" {
		t.Fatalf("preview: %s", body)
	}
	path := fmt.Sprintf("/api/v1/contacts/imports/%d", up.ID)

	code, body = a.Do("POST", path+"/start", map[string]any{"mapping": []string{"", "name", "tags", "consent"}, "mode": "upsert"})
	if code != http.StatusUnprocessableEntity || !strings.Contains(string(body), `"field":"mapping"`) || !strings.Contains(string(body), "phone") {
		t.Fatalf("no phone column: %d %s", code, body)
	}
	code, body = a.Do("POST", path+"/start", map[string]any{"mode": "merge"})
	if code != http.StatusUnprocessableEntity || !strings.Contains(string(body), `"field":"mode"`) {
		t.Fatalf("bad mode: %d %s", code, body)
	}
	code, body = a.Do("POST", path+"/start", map[string]any{"mapping": up.Preview.Suggested, "mode": "upsert", "country": "IT"})
	if code != http.StatusAccepted {
		t.Fatalf("start: %d %s", code, body)
	}
	var job importResp
	sendboxtest.Eventually(t, 10*time.Second, "the import to finish", func() bool {
		_, body = a.Do("GET", path, nil)
		job = sendboxtest.JSON[importResp](t, body)
		return job.Data.State == store.ImportDone
	})
	if want := (store.ImportCounts{Created: 2, Duplicates: 1, Rejected: 1}); job.Data.Counts != want || job.Data.Progress != 100 {
		t.Fatalf("summary: %s", body)
	}
	if code, body := a.Do("POST", path+"/start", map[string]any{}); code != http.StatusConflict {
		t.Errorf("started twice: %d %s", code, body)
	}

	req, _ := http.NewRequest("GET", a.URL()+path+"/rejected.csv", nil)
	req.Header.Set("Authorization", "Bearer "+a.Key)
	code, body = doReq(t, req)
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte("\uFEFF")))).ReadAll()
	if code != http.StatusOK || err != nil || len(rows) != 3 || rows[1][1] != "duplicate" || rows[2][0] != "5" ||
		!strings.Contains(rows[2][2], "not a") {
		t.Errorf("rejected.csv: %d %v %q", code, err, rows)
	}

	// Export: an agent may, and gets Excel's CSV.
	agent, _, err := accounts.CreateAPIKey(context.Background(), a.Store, "agent", "agent")
	if err != nil {
		t.Fatal(err)
	}
	req, _ = http.NewRequest("GET", a.URL()+"/api/v1/contacts/export", nil)
	req.Header.Set("Authorization", "Bearer "+agent)
	code, body = doReq(t, req)
	out := string(body)
	if code != http.StatusOK || !strings.HasPrefix(out, "\uFEFFphone,name,email,tags,consent,consent_source,consent_at\r\n") ||
		!strings.Contains(out, "+393471110001,Maria Rossi,,vip,opted_in,\"import: clienti.csv, line 2\",") ||
		!strings.Contains(out, "+393471110002,Luca,,,unknown,,\r\n") {
		t.Errorf("export: %d %q", code, out)
	}
	// … but not import.
	if code, body := upload(t, a, agent, "x.csv", importCSV); code != http.StatusForbidden {
		t.Errorf("agent import: %d %s", code, body)
	}
}

func TestContactsImportRefusesBadFiles(t *testing.T) {
	a := sendboxtest.New(t)
	for name, data := range map[string]string{
		"book.xlsx": "PK\x03\x04\x14\x00\x06\x00\x08\x00",
		"latin.csv": "phone,name\n+393471110001,Nicol\xe0\n",
		"empty.csv": "",
	} {
		code, body := upload(t, a, a.Key, name, data)
		if code != http.StatusUnprocessableEntity || !strings.Contains(string(body), "invalid_file") {
			t.Errorf("%s: %d %s", name, code, body)
		}
	}
	// Broken quoting after the preview: the import fails with the line,
	// and nothing is imported.
	var b strings.Builder
	b.WriteString("phone,name\n")
	for i := range 30 {
		fmt.Fprintf(&b, "+3934711%05d,N%d\n", i, i)
	}
	b.WriteString("+393471199999,\"unclosed\n")
	code, body := upload(t, a, a.Key, "broken.csv", b.String())
	if code != http.StatusCreated {
		t.Fatalf("upload: %d %s", code, body)
	}
	id := sendboxtest.JSON[importResp](t, body).Data.ID
	path := fmt.Sprintf("/api/v1/contacts/imports/%d", id)
	if code, body := a.Do("POST", path+"/start", map[string]any{}); code != http.StatusAccepted {
		t.Fatalf("start: %d %s", code, body)
	}
	var job importResp
	sendboxtest.Eventually(t, 10*time.Second, "the import to fail", func() bool {
		_, body = a.Do("GET", path, nil)
		job = sendboxtest.JSON[importResp](t, body)
		return job.Data.State == store.ImportFailed
	})
	if !strings.Contains(job.Data.Error, "line 32") {
		t.Errorf("error: %q", job.Data.Error)
	}
	if _, n, _, _ := a.Store.ListContacts(context.Background(), store.ContactFilter{Limit: 1}); n != 0 {
		t.Errorf("%d contacts imported from a broken file", n)
	}
}

// zeros is an endless body that costs no memory.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestContactsImport413: a 200 MB file is refused with 413 before it is read.
func TestContactsImport413(t *testing.T) {
	a := sendboxtest.New(t)
	req, _ := http.NewRequest("POST", a.URL()+"/api/v1/contacts/imports", io.LimitReader(zeros{}, 200<<20))
	req.ContentLength = 200 << 20
	req.Header.Set("Content-Type", "multipart/form-data; boundary=x")
	req.Header.Set("Authorization", "Bearer "+a.Key)
	code, body := doReq(t, req)
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), "100 MB") {
		t.Errorf("%d %s", code, body)
	}
}

// TestContactsImportResumesAfterARestart stops sendbox in the middle of an
// import: the next start carries on from the last committed batch, and
// the counts come out exact, every row imported once.
func TestContactsImportResumesAfterARestart(t *testing.T) {
	const n = 20_000
	dir := t.TempDir()
	ctx := context.Background()
	var b strings.Builder
	b.WriteString("phone,name,tags\n")
	for i := range n {
		fmt.Fprintf(&b, "+39347%07d,Cliente %d,lista\n", i, i)
	}
	a := sendboxtest.New(t, sendboxtest.WithDataDir(dir))
	code, body := upload(t, a, a.Key, "big.csv", b.String())
	if code != http.StatusCreated {
		t.Fatalf("upload: %d %s", code, body)
	}
	id := sendboxtest.JSON[importResp](t, body).Data.ID
	if code, body := a.Do("POST", fmt.Sprintf("/api/v1/contacts/imports/%d/start", id), map[string]any{}); code != http.StatusAccepted {
		t.Fatalf("start: %d %s", code, body)
	}
	sendboxtest.Eventually(t, 30*time.Second, "the first batches", func() bool {
		j, err := a.Store.ImportJob(ctx, id)
		return err == nil && j.Applied >= 1000
	})
	if err := a.App.Close(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, dir+"/sendbox.db", nil)
	if err != nil {
		t.Fatal(err)
	}
	j, _ := st.ImportJob(ctx, id)
	st.Close()
	if j.State != store.ImportImporting || j.Applied >= n {
		t.Fatalf("the stop came too late to test a resume: %+v", j)
	}
	t.Logf("stopped after %d rows", j.Applied)

	c := sendboxtest.New(t, sendboxtest.WithDataDir(dir))
	sendboxtest.Eventually(t, 60*time.Second, "the import to finish", func() bool {
		j, err = c.Store.ImportJob(ctx, id)
		return err == nil && j.State == store.ImportDone
	})
	if j.Counts != (store.ImportCounts{Created: n}) || j.Applied != n {
		t.Errorf("after the restart: %+v", j)
	}
	if _, total, _, _ := c.Store.ListContacts(ctx, store.ContactFilter{Limit: 1}); total != n {
		t.Errorf("%d contacts", total)
	}
}

// getRejected downloads an import's rejected rows.
func getRejected(t *testing.T, a *sendboxtest.App, id int64) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/contacts/imports/%d/rejected.csv", a.URL(), id), nil)
	req.Header.Set("Authorization", "Bearer "+a.Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// importFiles lists the files in the data folder's imports folder.
func importFiles(t *testing.T, a *sendboxtest.App) []string {
	t.Helper()
	entries, err := os.ReadDir(a.Config.Path("imports"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// TestContactsImportRetention: the upload is deleted when its import
// ends; the rejected rows keep their cells without it, say when they
// expire, lose an erased contact's number, and answer 410 once the sweep
// deleted them after 30 days; an upload never started is deleted after a
// day; a discard deletes at once; files a stop left behind are swept.
func TestContactsImportRetention(t *testing.T) {
	a := sendboxtest.New(t)
	ctx := context.Background()
	code, body := upload(t, a, a.Key, "clienti.csv", importCSV)
	if code != http.StatusCreated {
		t.Fatalf("upload: %d %s", code, body)
	}
	up := sendboxtest.JSON[importResp](t, body).Data
	if files := importFiles(t, a); len(files) != 1 {
		t.Fatalf("the upload is not kept while it waits: %v", files)
	}
	if !strings.Contains(string(body), `"upload_expires_at"`) {
		t.Errorf("the upload does not say when it is deleted: %s", body)
	}
	path := fmt.Sprintf("/api/v1/contacts/imports/%d", up.ID)
	if code, body := a.Do("POST", path+"/start", map[string]any{"country": "IT"}); code != http.StatusAccepted {
		t.Fatalf("start: %d %s", code, body)
	}
	var job struct {
		Data struct {
			State    string    `json:"state"`
			Finished time.Time `json:"finished_at"`
			Expire   time.Time `json:"rejected_rows_expire_at"`
		}
	}
	sendboxtest.Eventually(t, 10*time.Second, "the import to finish", func() bool {
		_, body = a.Do("GET", path, nil)
		job = sendboxtest.JSON[struct {
			Data struct {
				State    string    `json:"state"`
				Finished time.Time `json:"finished_at"`
				Expire   time.Time `json:"rejected_rows_expire_at"`
			}
		}](t, body)
		return job.Data.State == store.ImportDone
	})
	// The file is deleted just after the import ends.
	sendboxtest.Eventually(t, 10*time.Second, "the file deleted once its import ended", func() bool {
		return len(importFiles(t, a)) == 0
	})
	if want := job.Data.Finished.Add(30 * 24 * time.Hour); !job.Data.Expire.Equal(want) {
		t.Errorf("rejected rows expire at %v, want %v", job.Data.Expire, want)
	}
	resp, out := getRejected(t, a, up.ID)
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(out, "\uFEFF"))).ReadAll()
	if resp.StatusCode != 200 || err != nil || len(rows) != 3 || fmt.Sprint(rows[0]) != "[line outcome reason Telefono Nome Tags Consenso]" ||
		fmt.Sprint(rows[1]) != "[4 duplicate the same number as line 2: only the first is imported '+39 3471110001 Maria  ]" ||
		rows[2][3] != "not a number" {
		t.Fatalf("rejected rows without the file: %d %v %q", resp.StatusCode, err, rows)
	}
	if exp := resp.Header.Get("Sendbox-Expires-At"); exp != job.Data.Expire.UTC().Format(time.RFC3339) {
		t.Errorf("the download does not say when it expires: %q", exp)
	}

	// Erasing the contact takes their number out of the rejected rows.
	c, err := a.Store.ContactByRecipient(ctx, "393471110001", "")
	if err != nil {
		t.Fatal(err)
	}
	if code, body := a.Do("DELETE", fmt.Sprintf("/api/v1/contacts/%d", c.ID), nil); code/100 != 2 {
		t.Fatalf("erase: %d %s", code, body)
	}
	resp, out = getRejected(t, a, up.ID)
	if resp.StatusCode != 200 || strings.Contains(out, "3471110001") || strings.Contains(out, "Maria") ||
		!strings.Contains(out, "4,duplicate,the contact of this row was erased\r\n") || !strings.Contains(out, "not a number") {
		t.Errorf("after the erasure: %d %q", resp.StatusCode, out)
	}

	// An upload never started is deleted after a day.
	code, body = upload(t, a, a.Key, "later.csv", importCSV)
	if code != http.StatusCreated {
		t.Fatalf("upload: %d %s", code, body)
	}
	later := sendboxtest.JSON[importResp](t, body).Data.ID
	a.Imports.Sweep(ctx, time.Now().Add(23*time.Hour))
	if files := importFiles(t, a); len(files) != 1 {
		t.Fatalf("an upload was deleted before its day: %v", files)
	}
	a.Imports.Sweep(ctx, time.Now().Add(25*time.Hour))
	if files := importFiles(t, a); len(files) != 0 {
		t.Errorf("an upload not started is still on disk after a day: %v", files)
	}
	_, body = a.Do("GET", fmt.Sprintf("/api/v1/contacts/imports/%d", later), nil)
	if j := sendboxtest.JSON[importResp](t, body).Data; j.State != store.ImportFailed || !strings.Contains(j.Error, "not imported within 24 hours") {
		t.Errorf("the expired upload: %s", body)
	}
	if code, body := a.Do("POST", fmt.Sprintf("/api/v1/contacts/imports/%d/start", later), map[string]any{}); code != http.StatusUnprocessableEntity ||
		!strings.Contains(string(body), "upload it again") {
		t.Errorf("started after its file was deleted: %d %s", code, body)
	}

	// Discarded: file and rejected rows go at once.
	code, body = upload(t, a, a.Key, "oops.csv", importCSV)
	if code != http.StatusCreated {
		t.Fatalf("upload: %d %s", code, body)
	}
	oops := sendboxtest.JSON[importResp](t, body).Data.ID
	if code, body := a.Do("DELETE", fmt.Sprintf("/api/v1/contacts/imports/%d", oops), nil); code != http.StatusOK ||
		!strings.Contains(string(body), "discarded") {
		t.Errorf("discard: %d %s", code, body)
	}
	if files := importFiles(t, a); len(files) != 0 {
		t.Errorf("a discarded upload is still on disk: %v", files)
	}

	// A stop between an import's end and its file's deletion, and an
	// upload stopped before its record: the next sweep deletes both, but
	// not a file being uploaded right now.
	code, body = upload(t, a, a.Key, "crash.csv", importCSV)
	if code != http.StatusCreated {
		t.Fatalf("upload: %d %s", code, body)
	}
	crashed := sendboxtest.JSON[importResp](t, body).Data.ID
	if _, err := a.Store.DiscardImport(ctx, crashed); err != nil { // the commit, without the file's deletion
		t.Fatal(err)
	}
	stray, fresh := a.Config.Path("imports", "upload-stray.csv"), a.Config.Path("imports", "upload-fresh.csv")
	for _, p := range []string{stray, fresh} {
		if err := os.WriteFile(p, []byte(importCSV), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * time.Hour)
	os.Chtimes(stray, old, old)
	if files := importFiles(t, a); len(files) != 3 {
		t.Fatalf("before the sweep: %v", files)
	}
	a.Imports.Sweep(ctx, time.Now())
	if files := importFiles(t, a); fmt.Sprint(files) != "[upload-fresh.csv]" {
		t.Errorf("after the sweep: %v", files)
	}
	if j, _ := a.Store.ImportJob(ctx, crashed); j.Path != "" {
		t.Errorf("the swept file is still recorded: %q", j.Path)
	}

	// 30 days after the import: the sweep deletes the rejected rows, and
	// the download answers 410 with why.
	a.Imports.Sweep(ctx, time.Now().Add(29*24*time.Hour))
	if resp, _ := getRejected(t, a, up.ID); resp.StatusCode != 200 {
		t.Fatalf("rejected rows deleted before 30 days: %d", resp.StatusCode)
	}
	a.Imports.Sweep(ctx, time.Now().Add(31*24*time.Hour))
	resp, out = getRejected(t, a, up.ID)
	if resp.StatusCode != http.StatusGone || !strings.Contains(out, `"code":"rejected_rows_deleted"`) || !strings.Contains(out, "kept 30 days") {
		t.Errorf("expired rejected rows: %d %s", resp.StatusCode, out)
	}
	if rj, _ := a.Store.ImportRejects(ctx, up.ID); len(rj) != 0 {
		t.Errorf("%d rejected rows left in the database", len(rj))
	}
}

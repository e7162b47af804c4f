package server_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
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

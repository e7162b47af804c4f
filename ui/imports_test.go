package ui_test

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"sendbox/sendboxtest"
	"sendbox/store"
)

const panelCSV = "Telefono;Nome;Città;Consenso\n" +
	"347 111 0001;Maria Rossi;Milano;sì\n" +
	"347 111 0002;Luca;Roma;\n" +
	"347 111 0001;Maria;;\n" +
	"12;Nessuno;;\n"

// TestImportFromThePanel: upload, preview with a select per column, a dry
// run that writes nothing, the import with its progress and summary, the
// rejected rows, and the export.
func TestImportFromThePanel(t *testing.T) {
	a := sendboxtest.New(t)
	b := setupOwner(t, a)
	if _, page := b.get("/contacts"); !strings.Contains(page, `href="/imports"`) || !strings.Contains(page, `href="/contacts/export"`) {
		t.Fatal("the contacts page links neither import nor export")
	}
	if resp, page := b.postFile("/imports", nil, "file", "book.xlsx", []byte("PK\x03\x04\x14\x00")); resp.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(page, "Excel workbook") {
		t.Errorf("a workbook: %d", resp.StatusCode)
	}
	resp, page := b.postFile("/imports", nil, "file", "clienti.csv", []byte(panelCSV))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("upload: %d %s", resp.StatusCode, page)
	}
	where := resp.Header.Get("Location")
	_, page = b.get(where)
	for _, want := range []string{`name="col0"`, `name="col3"`, "Maria Rossi", `value="attributes.citta" selected`, `<option value="phone" selected>`} {
		if !strings.Contains(page, want) {
			t.Errorf("the preview lacks %s", want)
		}
	}
	form := formValues(t, page, "import-mapping")
	if form.Get("dry_run") == "" || form.Get("mode") != "upsert" {
		t.Fatalf("defaults: %v", form)
	}
	form.Set("country", "IT")
	if resp, page := b.post(where+"/start", form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("dry run: %d %s", resp.StatusCode, page)
	}
	wait := func(state string) string {
		var frag string
		sendboxtest.Eventually(t, 10*time.Second, state, func() bool {
			_, frag = b.htmx("GET", where+"/progress", nil)
			return strings.Contains(frag, state)
		})
		return frag
	}
	frag := wait("Nothing was written")
	if !strings.Contains(frag, "<dt>Created</dt><dd>2</dd>") || !strings.Contains(frag, "rejected.csv") {
		t.Errorf("dry run summary: %s", frag)
	}
	if _, n, _, _ := a.Store.ListContacts(context.Background(), store.ContactFilter{Limit: 1}); n != 0 {
		t.Fatalf("the dry run wrote %d contacts", n)
	}

	_, page = b.get(where)
	form = formValues(t, page, "import-mapping")
	form.Del("dry_run")
	if resp, page := b.post(where+"/start", form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("import: %d %s", resp.StatusCode, page)
	}
	frag = wait("Done.")
	for _, want := range []string{"<dt>Created</dt><dd>2</dd>", "<dt>Duplicates in the file</dt><dd>1</dd>", "<dt>Rejected</dt><dd>1</dd>", `value="100"`} {
		if !strings.Contains(frag, want) {
			t.Errorf("summary lacks %s: %s", want, frag)
		}
	}
	c, err := a.Store.ContactByRecipient(context.Background(), "393471110001", "")
	if err != nil || c.Name != "Maria Rossi" || c.Attributes["citta"] != "Milano" || c.Consent != store.ConsentOptedIn {
		t.Errorf("%+v %v", c, err)
	}
	resp, csvBody := b.get(where + "/rejected.csv")
	if resp.StatusCode != 200 || !strings.Contains(csvBody, "duplicate") || !strings.Contains(csvBody, "Nessuno") {
		t.Errorf("rejected.csv: %d %q", resp.StatusCode, csvBody)
	}
	if resp, page := b.get("/imports"); resp.StatusCode != 200 || !strings.Contains(page, "clienti.csv") ||
		!strings.Contains(page, "2 created, 0 updated, 0 unchanged, 0 skipped, 1 duplicates, 1 rejected") {
		t.Errorf("the imports page: %d", resp.StatusCode)
	}
	// Started again: refused, the file was imported.
	if resp, _ := b.post(where+"/start", form); resp.StatusCode != http.StatusConflict {
		t.Errorf("started twice: %d", resp.StatusCode)
	}

	// An agent exports but does not import.
	agent := userBrowser(t, a, "agent")
	if resp, _ := agent.get("/imports"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("agent import page: %d", resp.StatusCode)
	}
	resp, out := agent.get("/contacts/export")
	if resp.StatusCode != 200 || !strings.HasPrefix(out, "\uFEFFphone,name,email,tags,consent,consent_source,consent_at,attributes.citta\r\n") ||
		!strings.Contains(out, "+393471110002,Luca,,,unknown,,,Roma\r\n") {
		t.Errorf("export: %d %q", resp.StatusCode, out)
	}
	viewer := userBrowser(t, a, "viewer")
	if resp, _ := viewer.get("/contacts/export"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("viewer export: %d", resp.StatusCode)
	}
}

// TestImportRetentionInThePanel: the page says how long the file and the
// rows not imported are kept; a discard deletes the upload at once; once
// the rows are deleted the download answers 410 and the page says when.
func TestImportRetentionInThePanel(t *testing.T) {
	a := sendboxtest.New(t)
	b := setupOwner(t, a)
	ctx := context.Background()
	resp, page := b.postFile("/imports", nil, "file", "clienti.csv", []byte(panelCSV))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("upload: %d %s", resp.StatusCode, page)
	}
	oops := resp.Header.Get("Location")
	if _, page = b.get(oops); !strings.Contains(page, "The uploaded file is deleted on") || !strings.Contains(page, "Delete the uploaded file now") {
		t.Errorf("the upload does not say how long it is kept")
	}
	if resp, page := b.post(oops+"/discard", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("discard: %d %s", resp.StatusCode, page)
	}
	if _, page = b.get(oops); !strings.Contains(page, "discarded before the import") || strings.Contains(page, `id="import-mapping"`) {
		t.Errorf("after the discard: %s", page)
	}
	if entries, _ := os.ReadDir(a.Config.Path("imports")); len(entries) != 0 {
		t.Errorf("%d files left after the discard", len(entries))
	}

	resp, _ = b.postFile("/imports", nil, "file", "clienti.csv", []byte(panelCSV))
	where := resp.Header.Get("Location")
	_, page = b.get(where)
	form := formValues(t, page, "import-mapping")
	form.Del("dry_run")
	form.Set("country", "IT")
	if resp, page := b.post(where+"/start", form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("import: %d %s", resp.StatusCode, page)
	}
	sendboxtest.Eventually(t, 10*time.Second, "the import to end", func() bool {
		_, frag := b.htmx("GET", where+"/progress", nil)
		return strings.Contains(frag, "Done.")
	})
	// The file is deleted just after the import ends, then forgotten: the
	// page offers to delete the rows once it is.
	sendboxtest.Eventually(t, 10*time.Second, "the done import to say how long its rows are kept", func() bool {
		_, page = b.get(where)
		return strings.Contains(page, "Kept until") && strings.Contains(page, "Delete the rows not imported now")
	})
	a.Imports.Sweep(ctx, time.Now().Add(31*24*time.Hour))
	if resp, body := b.get(where + "/rejected.csv"); resp.StatusCode != http.StatusGone || !strings.Contains(body, "kept 30 days") {
		t.Errorf("expired rows: %d %s", resp.StatusCode, body)
	}
	if _, page = b.get(where); !strings.Contains(page, "The rows not imported were deleted on") || strings.Contains(page, "rejected.csv") {
		t.Errorf("the page after the rows were deleted: %s", page)
	}
}

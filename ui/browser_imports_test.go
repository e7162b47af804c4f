package ui_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"sendbox/sendboxtest"
	"sendbox/store"
)

// browserImportCSV is what Excel's "CSV UTF-8" writes in Italy: a byte
// order mark, semicolons, local numbers. The Note column holds health data
// the clinic does not want imported: it is switched to "Ignore".
const browserImportCSV = "\uFEFFTelefono;Nome;Città;Note\r\n" +
	"347 111 0001;Maria Rossi;Milano;allergia al lattice\r\n" +
	"+39 347 111 0005;Paolo Verdi;Roma;\r\n" +
	"0039 3471110001;Maria bis;;\r\n" + // the same number as line 2
	"12;Nessuno;;\r\n" + // not a number
	"347 111 0003;Anna Neri;Torino;diabete\r\n"

// TestImportInBrowser imports a file in Chromium as an owner would:
// upload, preview, one column's mapping changed, a dry run, the import
// with its progress, the summary, and the rows not imported.
func TestImportInBrowser(t *testing.T) {
	a := sendboxtest.New(t)
	ctx := context.Background()
	if _, err := a.Store.CreateContact(ctx, "393471110005", store.ContactUpdate{Name: "Paolo"}, "", "test", time.Now()); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "pazienti.csv")
	if err := os.WriteFile(file, []byte(browserImportCSV), 0o600); err != nil {
		t.Fatal(err)
	}
	b := openPanel(t, a)
	b.createOwner()

	// progress waits for the progress card to say want. The page it polls
	// is the one the form's submission loads: a read during the navigation
	// fails, and is tried again (each bounded).
	progress := func(want string) {
		t.Helper()
		js := `(function () { var e = document.getElementById("import-progress");
			return !!e && e.textContent.includes(` + quoteJS(want) + `) && !document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling"); })()`
		deadline := time.Now().Add(30 * time.Second)
		for {
			ok, err := sendboxtest.TryRead(b.ctx, chromedp.Evaluate[bool](js))
			if err == nil && ok {
				return
			}
			if time.Now().After(deadline) {
				b.shot("failed-import-progress")
				t.Fatalf("the progress never said %q: %v", want, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	summary := func(what string) string {
		t.Helper()
		return strings.Join(strings.Fields(b.get(what, chromedp.Text("#import-progress dl.summary"))), " ")
	}

	b.run("open the import page", chromedp.Navigate(a.URL()+"/contacts"), chromedp.Click(`//a[@href="/imports"]`),
		chromedp.WaitVisible("#imp-file"))
	b.shot("imports-01-upload")
	b.run("upload the file", chromedp.SetUploadFiles("#imp-file", []string{file}),
		chromedp.Click(`form[action="/imports"] button[type=submit]`), chromedp.WaitVisible("#import-mapping"))
	head := b.get("read the file line", chromedp.Text(".page > p"))
	if !strings.Contains(head, "pazienti.csv") || !strings.Contains(head, ";") || !strings.Contains(head, "BOM") {
		t.Errorf("the file line: %q", head)
	}
	preview := b.get("read the preview", chromedp.Text("#import-mapping table"))
	for _, want := range []string{"Maria Rossi", "allergia al lattice", "Nessuno"} {
		if !strings.Contains(preview, want) {
			t.Errorf("the preview lacks %q: %q", want, preview)
		}
	}
	if v := b.get("read the Note column", chromedp.Value("#col3")); v != "attributes.note" {
		t.Fatalf("the Note column is suggested as %q", v)
	}
	b.shot("imports-02-preview")
	b.run("ignore the Note column", chromedp.SetValue("#col3", ""), chromedp.SetValue("#imp-country", "IT"))
	if checked := b.get("read the dry run box", chromedp.Evaluate[string](`String(document.querySelector("input[name=dry_run]").checked)`)); checked != "true" {
		t.Fatalf("a first start is not a dry run by default")
	}
	b.run("run the dry run", chromedp.Click(`#import-mapping button[type=submit]`))
	progress("Nothing was written")
	if s := summary("read the dry run's summary"); s != "Created 2 Updated 1 Unchanged 0 Skipped (by the mode) 0 Duplicates in the file 1 Rejected 1" {
		t.Errorf("dry run summary: %q", s)
	}
	if _, n, _, _ := a.Store.ListContacts(ctx, store.ContactFilter{Limit: 1}); n != 1 {
		t.Fatalf("the dry run wrote: %d contacts", n)
	}
	b.shot("imports-03-dry-run")

	if v := b.get("read the Note column again", chromedp.Value("#col3")); v != "" {
		t.Errorf("the changed mapping was not kept after the dry run: %q", v)
	}
	b.run("import", chromedp.Evaluate[chromedp.Void](`document.querySelector("input[name=dry_run]").checked = false`),
		chromedp.Click(`#import-mapping button[type=submit]`))
	progress("Done.")
	if s := summary("read the summary"); s != "Created 2 Updated 1 Unchanged 0 Skipped (by the mode) 0 Duplicates in the file 1 Rejected 1" {
		t.Errorf("summary: %q", s)
	}
	if pct := b.get("read the progress", chromedp.Text("#import-progress progress + span")); pct != "100%" {
		t.Errorf("progress: %q", pct)
	}
	kept := b.get("read how long the rows are kept", chromedp.Text("#import-progress"))
	if !strings.Contains(kept, "Kept until") {
		t.Errorf("the page does not say until when the rows not imported are kept: %q", kept)
	}
	b.shot("imports-04-done")

	href := b.get("read the download link", chromedp.Evaluate[string](`document.querySelector("#import-progress a[download]").getAttribute("href")`))
	body := b.get("download the rows not imported", chromedp.Evaluate[string](`fetch(`+quoteJS(href)+`).then(function (r) { return r.text(); })`, chromedp.EvalAwaitPromise))
	for _, want := range []string{"line,outcome,reason,Telefono,Nome,Città,Note", "4,duplicate,the same number as line 2", "Maria bis", "5,rejected,", "Nessuno"} {
		if !strings.Contains(body, want) {
			t.Errorf("the rows not imported lack %q: %q", want, body)
		}
	}

	for waID, want := range map[string]string{"393471110001": "Maria Rossi", "393471110005": "Paolo Verdi", "393471110003": "Anna Neri"} {
		c, err := a.Store.ContactByRecipient(ctx, waID, "")
		if err != nil || c.Name != want || c.Attributes["note"] != "" || c.Attributes["citta"] == "" {
			t.Errorf("%s: %+v %v", waID, c, err)
		}
	}
	b.run("see the list of imports", chromedp.Navigate(a.URL()+"/imports"), chromedp.WaitVisible(`//a[text()="pazienti.csv"]`))
	b.shot("imports-05-list")
}

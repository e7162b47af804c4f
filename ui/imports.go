package ui

import (
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"sendbox/contacts"
	"sendbox/store"
)

// importView is the import page: the upload form and the latest imports,
// or one import with its mapping form, progress and summary.
type importCol struct {
	Index    int
	Header   string
	Selected string
	Attr     string // attributes.<key> named after the header, or ""
}

type importView struct {
	Jobs    []store.ImportJob
	Job     *store.ImportJob
	Preview *contacts.Preview
	// Targets are the choices every column's select offers; Columns the
	// file's columns with their chosen target and their own attribute.
	Targets []string
	Columns []importCol
	Running bool
	Percent int
	// UploadExpires: an upload not imported by then is deleted;
	// RejectsExpire: the rejected rows are deleted then (or were: Gone).
	UploadExpires time.Time
	RejectsExpire time.Time
	RejectsGone   bool
	Country       string
	Error         string
	CSRF          string
}

func (p *Panel) setJob(v *importView, j *store.ImportJob) {
	v.Job = j
	v.UploadExpires, v.RejectsExpire = contacts.UploadExpiresAt(j), contacts.RejectsExpireAt(j)
	v.RejectsGone = p.Imports.RejectsAvailable(j) != nil
	switch j.State {
	case store.ImportQueued, store.ImportValidating, store.ImportImporting:
		v.Running = true
	}
	switch {
	case j.State == store.ImportDone || j.State == store.ImportChecked:
		v.Percent = 100
	case j.Valid > 0:
		v.Percent = j.Applied * 100 / j.Valid
	}
}

func (p *Panel) handleImports(w http.ResponseWriter, r *http.Request) {
	p.importsPage(w, r, http.StatusOK, "")
}

func (p *Panel) importsPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	v := &importView{Error: msg, CSRF: sessionFrom(r).CSRF}
	var err error
	if v.Jobs, err = p.Store.ListImportJobs(r.Context(), 20); err != nil {
		p.internal(w, r, err)
		return
	}
	p.page(w, r, status, "imports", &view{Title: p.T("imports.title"), Nav: "contacts", Data: v})
}

// handleImportUpload keeps the file and shows its mapping form.
func (p *Panel) handleImportUpload(w http.ResponseWriter, r *http.Request) {
	file, hdr, err := r.FormFile("file")
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			p.importsPage(w, r, http.StatusRequestEntityTooLarge, p.T("imports.too_large", contacts.MaxFileBytes>>20))
			return
		}
		p.importsPage(w, r, http.StatusUnprocessableEntity, p.T("imports.choose"))
		return
	}
	defer file.Close()
	j, _, err := p.Imports.Upload(r.Context(), hdr.Filename, file)
	var fe *contacts.FileError
	switch {
	case errors.Is(err, contacts.ErrTooLarge):
		p.importsPage(w, r, http.StatusRequestEntityTooLarge, p.T("imports.too_large", contacts.MaxFileBytes>>20))
	case errors.As(err, &fe):
		p.importsPage(w, r, http.StatusUnprocessableEntity, p.T("imports.unreadable", fe.Error()))
	case err != nil:
		p.internal(w, r, err)
	default:
		http.Redirect(w, r, "/imports/"+strconv.FormatInt(j.ID, 10), http.StatusSeeOther)
	}
}

func (p *Panel) importJob(w http.ResponseWriter, r *http.Request) (*store.ImportJob, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		p.fail(w, r, http.StatusNotFound, p.T("error.not_found"))
		return nil, false
	}
	j, err := p.Store.ImportJob(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		p.fail(w, r, http.StatusNotFound, p.T("error.not_found"))
		return nil, false
	}
	if err != nil {
		p.internal(w, r, err)
		return nil, false
	}
	return j, true
}

// handleImport shows one import: its mapping form until it runs, then its
// progress (polled), then its summary.
func (p *Panel) handleImport(w http.ResponseWriter, r *http.Request) {
	j, ok := p.importJob(w, r)
	if !ok {
		return
	}
	p.importPage(w, r, http.StatusOK, j, nil, "")
}

func (p *Panel) importPage(w http.ResponseWriter, r *http.Request, status int, j *store.ImportJob, mapping []string, msg string) {
	v := &importView{Error: msg, CSRF: sessionFrom(r).CSRF, Country: j.Country}
	p.setJob(v, j)
	if pv, err := p.Imports.Preview(j); err == nil {
		v.Preview = pv
		if mapping == nil {
			mapping = j.Mapping
		}
		if len(mapping) != len(pv.Columns) {
			mapping = pv.Suggested
		}
		v.Targets = []string{contacts.Ignore, contacts.Phone, contacts.Name, contacts.Email, contacts.Tags,
			contacts.Consent, contacts.ConsentDate}
		for i, h := range pv.Columns {
			c := importCol{Index: i, Header: h, Selected: mapping[i]}
			if k := contacts.AttrKey(h); k != "" {
				c.Attr = contacts.AttrPrefix + k
			}
			if strings.HasPrefix(c.Selected, contacts.AttrPrefix) {
				c.Attr = c.Selected
			}
			v.Columns = append(v.Columns, c)
		}
	}
	if v.Country == "" {
		v.Country = p.Imports.DefaultCountry(r.Context())
	}
	p.page(w, r, status, "imports", &view{Title: p.T("imports.title"), Nav: "contacts", Data: v})
}

// handleImportStart starts the import (or its dry run) with the chosen
// mapping: one select per column, named col0, col1…
func (p *Panel) handleImportStart(w http.ResponseWriter, r *http.Request) {
	j, ok := p.importJob(w, r)
	if !ok {
		return
	}
	if j.Running() || j.State == store.ImportDone {
		p.importPage(w, r, http.StatusConflict, j, nil, p.T("imports.busy"))
		return
	}
	pv, err := p.Imports.Preview(j)
	if err != nil {
		p.importPage(w, r, http.StatusUnprocessableEntity, j, nil, err.Error())
		return
	}
	mapping := make([]string, len(pv.Columns))
	for i := range mapping {
		mapping[i] = r.PostFormValue("col" + strconv.Itoa(i))
	}
	req := contacts.StartRequest{Mapping: mapping, Mode: r.PostFormValue("mode"), DryRun: r.PostFormValue("dry_run") != "",
		Country: r.PostFormValue("country")}
	nj, err := p.Imports.Start(r.Context(), j.ID, req)
	var ie *contacts.InvalidError
	var fe *contacts.FileError
	switch {
	case errors.As(err, &ie):
		p.importPage(w, r, http.StatusUnprocessableEntity, j, mapping, ie.Msg)
	case errors.As(err, &fe):
		p.importPage(w, r, http.StatusUnprocessableEntity, j, mapping, fe.Error())
	case errors.Is(err, store.ErrImportBusy):
		p.importPage(w, r, http.StatusConflict, j, mapping, p.T("imports.busy"))
	case err != nil:
		p.internal(w, r, err)
	default:
		http.Redirect(w, r, "/imports/"+strconv.FormatInt(nj.ID, 10), http.StatusSeeOther)
	}
}

// handleImportProgress is the progress fragment htmx polls while the
// import runs.
func (p *Panel) handleImportProgress(w http.ResponseWriter, r *http.Request) {
	j, ok := p.importJob(w, r)
	if !ok {
		return
	}
	v := &importView{CSRF: sessionFrom(r).CSRF}
	p.setJob(v, j)
	if j.State == store.ImportChecked && r.Header.Get("HX-Request") != "" {
		// The page polling this drew no mapping form while the dry run
		// ran: reload it, so that the form to start the import is there.
		w.Header().Set("HX-Refresh", "true")
	}
	p.fragment(w, r, "imports", "import_progress", v)
}

// handleImportRejected downloads the rows an import turned down.
func (p *Panel) handleImportRejected(w http.ResponseWriter, r *http.Request) {
	j, ok := p.importJob(w, r)
	if !ok {
		return
	}
	var gone *contacts.ErrRejectsExpired
	if err := p.Imports.RejectsAvailable(j); errors.As(err, &gone) {
		p.fail(w, r, http.StatusGone, p.T("imports.rejects_deleted", gone.At.Local().Format("2 Jan 2006, 15:04"),
			int(contacts.RejectsTTL/(24*time.Hour))))
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment",
		map[string]string{"filename": "import-" + strconv.FormatInt(j.ID, 10) + "-rejected.csv"}))
	if err := p.Imports.WriteRejected(r.Context(), j, w); err != nil {
		p.Log.Warn("rejected rows download", slog.Any("err", err))
	}
}

// handleImportDiscard deletes an import's file and rejected rows now,
// cancelling it if it waits or runs.
func (p *Panel) handleImportDiscard(w http.ResponseWriter, r *http.Request) {
	j, ok := p.importJob(w, r)
	if !ok {
		return
	}
	if _, err := p.Imports.Discard(r.Context(), j.ID); err != nil {
		p.internal(w, r, err)
		return
	}
	http.Redirect(w, r, "/imports/"+strconv.FormatInt(j.ID, 10), http.StatusSeeOther)
}

// handleContactsExport downloads every contact as CSV for Excel.
func (p *Panel) handleContactsExport(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment",
		map[string]string{"filename": "contacts-" + time.Now().UTC().Format("2006-01-02") + ".csv"}))
	if err := contacts.Export(r.Context(), p.Store, w); err != nil {
		p.Log.Warn("contacts export", slog.Any("err", err))
	}
}

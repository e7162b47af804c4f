package server

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"time"

	"sendbox/contacts"
	"sendbox/store"
)

// importView is an import as the API shows it: the job, how far it is
// (percent of the rows to apply), and the preview of its file.
type importView struct {
	*store.ImportJob
	Progress int               `json:"progress"`
	Preview  *contacts.Preview `json:"preview,omitempty"`
	// UploadExpiresAt: an upload not imported by then is deleted.
	UploadExpiresAt time.Time `json:"upload_expires_at,omitzero"`
	// RejectsExpireAt: the rejected rows are deleted then.
	RejectsExpireAt time.Time `json:"rejected_rows_expire_at,omitzero"`
}

func (a *Server) importView(j *store.ImportJob) importView {
	v := importView{ImportJob: j, UploadExpiresAt: contacts.UploadExpiresAt(j), RejectsExpireAt: contacts.RejectsExpireAt(j)}
	switch {
	case j.State == store.ImportDone || j.State == store.ImportChecked:
		v.Progress = 100
	case j.Valid > 0:
		v.Progress = j.Applied * 100 / j.Valid
	}
	if p, err := a.Imports.Preview(j); err == nil {
		v.Preview = p
	}
	return v
}

// handleUploadImport takes a CSV file (multipart field "file"), keeps it,
// and answers with the import's id and the preview of its first rows.
// The file is streamed to disk: a 100 MB upload never sits in memory.
func (a *Server) handleUploadImport(w http.ResponseWriter, r *http.Request) {
	tooLarge := func() {
		writeError(w, http.StatusRequestEntityTooLarge, "file_too_large", contacts.ErrTooLarge.Error())
	}
	if r.ContentLength > contacts.MaxFileBytes+1<<20 {
		tooLarge()
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, contacts.MaxFileBytes+1<<20)
	mr, err := r.MultipartReader()
	if err != nil {
		writeFieldError(w, http.StatusBadRequest, "missing_file", "file", `send the CSV file as multipart/form-data in a field named "file"`)
		return
	}
	for {
		part, err := mr.NextPart()
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			tooLarge()
			return
		case errors.Is(err, io.EOF):
			writeFieldError(w, http.StatusBadRequest, "missing_file", "file", `send the CSV file as multipart/form-data in a field named "file"`)
			return
		case err != nil:
			writeError(w, http.StatusBadRequest, "invalid_multipart", "the upload could not be read: "+err.Error())
			return
		}
		if part.FormName() != "file" {
			part.Close()
			continue
		}
		j, p, err := a.Imports.Upload(r.Context(), part.FileName(), part)
		part.Close()
		var fe *contacts.FileError
		switch {
		case errors.Is(err, contacts.ErrTooLarge), errors.As(err, &mbe):
			tooLarge()
		case errors.As(err, &fe):
			writeFieldError(w, http.StatusUnprocessableEntity, "invalid_file", "file", fe.Error())
		case err != nil:
			a.internalError(w, r, err)
		default:
			v := importView{ImportJob: j, Preview: p, UploadExpiresAt: contacts.UploadExpiresAt(j)}
			w.Header().Set("Location", fmt.Sprintf("/api/v1/contacts/imports/%d", j.ID))
			writeJSON(w, http.StatusCreated, one[importView]{v})
		}
		return
	}
}

// handleStartImport starts an uploaded import, or its dry run:
// {"mapping": [...], "mode": "upsert", "dry_run": false, "country": "IT"}.
func (a *Server) handleStartImport(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	var req contacts.StartRequest
	if !decodeJSON(w, r, 64<<10, &req) {
		return
	}
	j, err := a.Imports.Start(r.Context(), id, req)
	var ie *contacts.InvalidError
	var fe *contacts.FileError
	switch {
	case errors.As(err, &ie):
		writeFieldError(w, http.StatusUnprocessableEntity, "invalid_field", ie.Field, ie.Msg)
	case errors.As(err, &fe):
		writeError(w, http.StatusUnprocessableEntity, "invalid_file", fe.Error())
	case errors.Is(err, store.ErrImportBusy):
		writeError(w, http.StatusConflict, "import_busy", err.Error()+": upload the file again to import it again")
	case err != nil:
		a.notFoundOr(w, r, err, "import")
	default:
		writeJSON(w, http.StatusAccepted, one[importView]{a.importView(j)})
	}
}

// importJob reads the import of the path's id, or answers 400 or 404.
func (a *Server) importJob(w http.ResponseWriter, r *http.Request, raw string) (*store.ImportJob, bool) {
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		writeError(w, http.StatusBadRequest, "invalid_id", "the id in the path must be a positive number")
		return nil, false
	}
	j, err := a.Store.ImportJob(r.Context(), id)
	if err != nil {
		a.notFoundOr(w, r, err, "import")
		return nil, false
	}
	return j, true
}

// handleContactsSub serves GET /api/v1/contacts/imports/{id}: the pattern
// is /contacts/{id}/{sub} because /contacts/imports/{id} would clash with
// /contacts/{id}/runs in the router (neither is more specific).
func (a *Server) handleContactsSub(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("id") != "imports" {
		writeError(w, http.StatusNotFound, "not_found", "no such endpoint")
		return
	}
	j, ok := a.importJob(w, r, r.PathValue("sub"))
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, one[importView]{a.importView(j)})
}

// handleListImports lists the latest imports, newest first.
func (a *Server) handleListImports(w http.ResponseWriter, r *http.Request) {
	list, err := a.Store.ListImportJobs(r.Context(), 50)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	if list == nil {
		list = []store.ImportJob{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": list})
}

// handleImportRejected downloads the rows an import turned down, with why.
func (a *Server) handleImportRejected(w http.ResponseWriter, r *http.Request) {
	j, ok := a.importJob(w, r, r.PathValue("id"))
	if !ok {
		return
	}
	var gone *contacts.ErrRejectsExpired
	if err := a.Imports.RejectsAvailable(j); errors.As(err, &gone) {
		writeError(w, http.StatusGone, "rejected_rows_deleted", gone.Error())
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment",
		map[string]string{"filename": fmt.Sprintf("import-%d-rejected.csv", j.ID)}))
	if at := contacts.RejectsExpireAt(j); !at.IsZero() {
		w.Header().Set("Sendbox-Expires-At", at.UTC().Format(time.RFC3339)) // when these rows are deleted
	}
	if err := a.Imports.WriteRejected(r.Context(), j, w); err != nil {
		a.Log.Warn("rejected rows download", slog.Int64("import", j.ID), slog.Any("err", err))
	}
}

// handleDiscardImport deletes an import's uploaded file and rejected
// rows now, cancelling it if it waits or runs (committed rows stay).
func (a *Server) handleDiscardImport(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	j, err := a.Imports.Discard(r.Context(), id)
	if err != nil {
		a.notFoundOr(w, r, err, "import")
		return
	}
	writeJSON(w, http.StatusOK, one[importView]{a.importView(j)})
}

// handleExportContacts streams every contact as CSV for Excel.
func (a *Server) handleExportContacts(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment",
		map[string]string{"filename": "contacts-" + time.Now().UTC().Format("2006-01-02") + ".csv"}))
	if err := contacts.Export(r.Context(), a.Store, w); err != nil {
		a.Log.Warn("contacts export", slog.Any("err", err)) // the headers are out: the file ends short
	}
}

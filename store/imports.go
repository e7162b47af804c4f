package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"sendbox/events"
)

// Contacts imports: one row per uploaded file in import_jobs, the rows it
// turned down in import_rejects. The rules (what a row changes, what wins
// over it) live in package contacts; here is the SQL, and the promise that
// each batch of rows and the job's counts move in one transaction, so that a
// restart resumes exactly where the last commit left off.
//
// Privacy: a rejected row keeps its own cells and its number (wa_id), so
// that the uploaded file can be deleted when the import ends, and erasing a
// contact finds their rows (EraseContact). Rejected rows are deleted after a
// bounded time (PurgeImportRejects; package contacts holds the rule).

// Import job states.
const (
	ImportUploaded   = "uploaded"   // preview shown, waiting for a mapping
	ImportQueued     = "queued"     // started, waiting for the worker
	ImportValidating = "validating" // reading the whole file, nothing written
	ImportImporting  = "importing"  // writing contacts, batch by batch
	ImportChecked    = "checked"    // a dry run finished: the summary is what an import would do
	ImportDone       = "done"
	ImportFailed     = "failed"
)

// Import row outcomes.
const (
	ImportCreated   = "created"
	ImportUpdated   = "updated"
	ImportUnchanged = "unchanged"
	ImportSkipped   = "skipped"  // valid, but the mode leaves it out (exists in create-only, missing in update)
	ImportRejected  = "rejected" // refused, with a reason
	ImportDuplicate = "duplicate"
)

// ImportJob is one uploaded file and what became of it.
type ImportJob struct {
	ID       int64        `json:"id"`
	FileName string       `json:"file_name"`
	Path     string       `json:"-"`
	Size     int64        `json:"size"`
	SHA256   string       `json:"sha256"`
	State    string       `json:"state"`
	Mode     string       `json:"mode,omitempty"`
	Mapping  []string     `json:"mapping,omitempty"`
	Country  string       `json:"country,omitempty"`
	DryRun   bool         `json:"dry_run"`
	Error    string       `json:"error,omitempty"`
	Counts   ImportCounts `json:"summary"`
	// Rows is the number of data rows in the file (after validation),
	// Valid those to apply, Applied those applied so far.
	Rows       int       `json:"rows"`
	Valid      int       `json:"valid"`
	Applied    int       `json:"applied"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	// Header is the file's first line, read when the import validated it:
	// the rejected-rows download's columns once the file is gone.
	Header []string `json:"-"`
	// PurgedAt is when the rejected rows were deleted (kept for a bounded
	// time, or deleted at once when the import was discarded).
	PurgedAt time.Time `json:"rejected_rows_deleted_at,omitzero"`
}

// Running reports whether the worker has the job: queued, validating or importing.
func (j *ImportJob) Running() bool {
	return j.State == ImportQueued || j.State == ImportValidating || j.State == ImportImporting
}

// ImportCounts is an import's summary.
type ImportCounts struct {
	Created    int `json:"created"`
	Updated    int `json:"updated"`
	Unchanged  int `json:"unchanged"`
	Skipped    int `json:"skipped"`
	Duplicates int `json:"duplicates"`
	Rejected   int `json:"rejected"`
}

func (c *ImportCounts) add(o ImportCounts) {
	c.Created += o.Created
	c.Updated += o.Updated
	c.Unchanged += o.Unchanged
	c.Skipped += o.Skipped
	c.Duplicates += o.Duplicates
	c.Rejected += o.Rejected
}

// ImportReject is one row an import turned down, with why.
type ImportReject struct {
	Line   int    // the row's line in the file (the header is line 1)
	Kind   string // ImportRejected, ImportDuplicate or ImportSkipped
	Reason string
	// WaID is the row's number in E.164 digits when it could be read, so
	// that erasing its contact finds the row; "" when it could not.
	WaID string
	// Cells is the row as the file had it; nil for rows recorded before
	// version 23 (or whose contact was erased since).
	Cells []string
}

const importCols = `id, file_name, path, size, sha256, state, mode, mapping, country, dry_run, error,
	created, updated, unchanged, skipped, duplicates, rejected, total_rows, valid_rows, applied,
	created_at, updated_at, finished_at, header, purged_at`

func scanImportJob(sc interface{ Scan(...any) error }) (*ImportJob, error) {
	var j ImportJob
	var mapping string
	var dry int
	var created, updated int64
	var finished, purged sql.NullInt64
	var header string
	c := &j.Counts
	if err := sc.Scan(&j.ID, &j.FileName, &j.Path, &j.Size, &j.SHA256, &j.State, &j.Mode, &mapping, &j.Country, &dry,
		&j.Error, &c.Created, &c.Updated, &c.Unchanged, &c.Skipped, &c.Duplicates, &c.Rejected, &j.Rows, &j.Valid,
		&j.Applied, &created, &updated, &finished, &header, &purged); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	_ = json.Unmarshal([]byte(mapping), &j.Mapping)
	j.DryRun = dry == 1
	j.CreatedAt, j.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	if finished.Valid {
		j.FinishedAt = time.UnixMilli(finished.Int64).UTC()
	}
	if purged.Valid {
		j.PurgedAt = time.UnixMilli(purged.Int64).UTC()
	}
	_ = json.Unmarshal([]byte(header), &j.Header)
	return &j, nil
}

// CreateImportJob records an uploaded file, state uploaded.
func (s *Store) CreateImportJob(ctx context.Context, fileName, path string, size int64, sha string) (*ImportJob, error) {
	n := now().UnixMilli()
	var id int64
	if err := s.w.QueryRowContext(ctx, `INSERT INTO import_jobs (file_name, path, size, sha256, state, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, fileName, path, size, sha, ImportUploaded, n, n).Scan(&id); err != nil {
		return nil, err
	}
	return s.ImportJob(ctx, id)
}

// ImportJob returns one import job.
func (s *Store) ImportJob(ctx context.Context, id int64) (*ImportJob, error) {
	return scanImportJob(s.r.QueryRowContext(ctx, "SELECT "+importCols+" FROM import_jobs WHERE id = ?", id))
}

// ListImportJobs returns the newest import jobs first.
func (s *Store) ListImportJobs(ctx context.Context, limit int) ([]ImportJob, error) {
	return s.importJobs(ctx, "SELECT "+importCols+" FROM import_jobs ORDER BY id DESC LIMIT ?", limit)
}

func (s *Store) importJobs(ctx context.Context, q string, args ...any) ([]ImportJob, error) {
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ImportJob
	for rows.Next() {
		j, err := scanImportJob(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *j)
	}
	return out, rows.Err()
}

// NextImportJob returns the oldest job the worker has to carry on with
// (queued, or interrupted while validating or importing), or ErrNotFound.
func (s *Store) NextImportJob(ctx context.Context) (*ImportJob, error) {
	return scanImportJob(s.w.QueryRowContext(ctx, "SELECT "+importCols+` FROM import_jobs
		WHERE state IN (?, ?, ?) ORDER BY id LIMIT 1`, ImportQueued, ImportValidating, ImportImporting))
}

// ErrImportBusy: the import is running or finished, and cannot be started again.
var ErrImportBusy = errors.New("this import is running or done")

// ErrImportCancelled: the job is no longer the worker's (it was discarded
// while it ran); the write was not made.
var ErrImportCancelled = errors.New("this import was cancelled")

// running checks, inside a write, that the worker still owns the job.
func (t *wtx) running(id int64) error {
	var state string
	if err := t.queryRow("SELECT state FROM import_jobs WHERE id = ?", id).Scan(&state); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		return err
	}
	if state != ImportQueued && state != ImportValidating && state != ImportImporting {
		return ErrImportCancelled
	}
	return nil
}

// QueueImport starts an uploaded (or dry-run) import with its mapping,
// mode, default country and dry-run choice, clearing an earlier dry run's
// summary.
func (s *Store) QueueImport(ctx context.Context, id int64, mode string, mapping []string, country string, dryRun bool) error {
	m, _ := json.Marshal(mapping)
	return s.update(ctx, func(t *wtx) error {
		var state string
		if err := t.tx.QueryRowContext(ctx, "SELECT state FROM import_jobs WHERE id = ?", id).Scan(&state); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrNotFound
			}
			return err
		}
		if state == ImportFailed {
			return ErrImportFileGone // a failed import's file is deleted with it
		}
		if state != ImportUploaded && state != ImportChecked {
			return fmt.Errorf("import %d is %s: %w", id, state, ErrImportBusy)
		}
		var path string
		if err := t.tx.QueryRowContext(ctx, "SELECT path FROM import_jobs WHERE id = ?", id).Scan(&path); err != nil {
			return err
		}
		if path == "" {
			return ErrImportFileGone
		}
		if _, err := t.tx.ExecContext(ctx, "DELETE FROM import_rejects WHERE job_id = ?", id); err != nil {
			return err
		}
		_, err := t.tx.ExecContext(ctx, `UPDATE import_jobs SET state = ?, mode = ?, mapping = ?, country = ?, dry_run = ?,
			error = '', created = 0, updated = 0, unchanged = 0, skipped = 0, duplicates = 0, rejected = 0,
			total_rows = 0, valid_rows = 0, applied = 0, finished_at = NULL, updated_at = ? WHERE id = ?`,
			ImportQueued, mode, string(m), country, boolInt(dryRun), t.now.UnixMilli(), id)
		return err
	})
}

// ErrImportFileGone: the uploaded file was deleted (the import ended, was
// discarded, or waited too long to start).
var ErrImportFileGone = errors.New("the uploaded file was deleted: upload it again")

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// SetImportState moves a job to validating (clearing what an interrupted
// validation left), or ends it as failed with the reason a person reads;
// ErrImportCancelled when the job is no longer running.
func (s *Store) SetImportState(ctx context.Context, id int64, state, reason string) error {
	return s.update(ctx, func(t *wtx) error {
		if err := t.running(id); err != nil {
			return err
		}
		if state == ImportValidating {
			if _, err := t.tx.ExecContext(ctx, "DELETE FROM import_rejects WHERE job_id = ?", id); err != nil {
				return err
			}
		}
		var finished any
		if state == ImportFailed || state == ImportDone || state == ImportChecked {
			finished = t.now.UnixMilli()
		}
		_, err := t.tx.ExecContext(ctx, "UPDATE import_jobs SET state = ?, error = ?, updated_at = ?, finished_at = ? WHERE id = ?",
			state, reason, t.now.UnixMilli(), finished, id)
		return err
	})
}

// ImportValidated ends the validation pass: it records the rows the pass
// turned down and the file's counts, and moves the job to importing.
func (s *Store) ImportValidated(ctx context.Context, id int64, header []string, rows, valid int, counts ImportCounts, rejects []ImportReject) error {
	h, err := json.Marshal(header)
	if err != nil {
		return err
	}
	return s.update(ctx, func(t *wtx) error {
		if err := t.running(id); err != nil {
			return err
		}
		if err := t.insertRejects(id, rejects); err != nil {
			return err
		}
		_, err := t.tx.ExecContext(ctx, `UPDATE import_jobs SET state = ?, total_rows = ?, valid_rows = ?, applied = 0,
			duplicates = ?, rejected = ?, created = 0, updated = 0, unchanged = 0, skipped = 0, header = ?, updated_at = ? WHERE id = ?`,
			ImportImporting, rows, valid, counts.Duplicates, counts.Rejected, string(h), t.now.UnixMilli(), id)
		return err
	})
}

func (t *wtx) insertRejects(id int64, rejects []ImportReject) error {
	for _, r := range rejects {
		var cells, waID any
		if r.Cells != nil {
			b, err := json.Marshal(r.Cells)
			if err != nil {
				return err
			}
			cells = string(b)
		}
		if r.WaID != "" {
			waID = r.WaID
		}
		if _, err := t.exec("INSERT OR REPLACE INTO import_rejects (job_id, line, kind, reason, wa_id, cells) VALUES (?, ?, ?, ?, ?, ?)",
			id, r.Line, r.Kind, r.Reason, waID, cells); err != nil {
			return err
		}
	}
	return nil
}

// ImportRejects returns the rows an import turned down, by line.
func (s *Store) ImportRejects(ctx context.Context, id int64) ([]ImportReject, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT line, kind, reason, coalesce(wa_id, ''), cells FROM import_rejects WHERE job_id = ? ORDER BY line", id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ImportReject
	for rows.Next() {
		var r ImportReject
		var cells sql.NullString
		if err := rows.Scan(&r.Line, &r.Kind, &r.Reason, &r.WaID, &cells); err != nil {
			return nil, err
		}
		if cells.Valid {
			_ = json.Unmarshal([]byte(cells.String), &r.Cells)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ImportRow is one valid row of a file: the contact's number (E.164
// digits) and whether its consent column opts it in (the suppression list
// is then looked up, if it has any entry).
type ImportRow struct {
	Line   int
	WaID   string
	OptsIn bool
	// Cells is the row as the file has it, kept if the row is turned down.
	Cells []string
}

// ImportExisting is what a row's number already has in the store.
type ImportExisting struct {
	ID         int64
	Name       string
	Email      string
	Attributes map[string]string
	Tags       []string
	Consent    string
	ConsentAt  time.Time
	// Suppressed: the number opted out before an earlier contact of it was
	// erased (looked up only for rows that opt in).
	Suppressed bool
}

// ImportChange is what a row does, as package contacts decided it.
type ImportChange struct {
	Outcome    string // ImportCreated, ImportUpdated, ImportUnchanged, ImportSkipped or ImportRejected
	Reason     string // for skipped and rejected
	Name       string
	Email      string
	Attributes map[string]string // the whole attributes after the change
	AddTags    []string
	Consent    string // "" keeps it
	ConsentAt  time.Time
	Source     string // the consent's source text
}

// ImportBatch is one batch of valid rows: Decide says what each row does
// given what exists (nil for a new number), inside the transaction.
type ImportBatch struct {
	JobID  int64
	Rows   []ImportRow
	Decide func(i int, existing *ImportExisting) ImportChange
	// DryRun rolls the batch back: the counts are what it would do.
	DryRun bool
}

var errDryRun = errors.New("dry run")

// ApplyImportBatch applies a batch in one transaction together with the
// job's counts and position, so that a crash loses or keeps the whole
// batch, never half of it.
func (s *Store) ApplyImportBatch(ctx context.Context, b ImportBatch) (ImportCounts, []ImportReject, error) {
	var counts ImportCounts
	var rejects []ImportReject
	err := s.update(ctx, func(t *wtx) error {
		counts, rejects = ImportCounts{}, nil
		// The list is usually empty: then no row needs looking up in it.
		var anySuppressed bool
		if err := t.queryRow("SELECT EXISTS (SELECT 1 FROM suppressions)").Scan(&anySuppressed); err != nil {
			return err
		}
		keys := b.Rows
		if !anySuppressed {
			keys = make([]ImportRow, len(b.Rows))
			for i, r := range b.Rows {
				r.OptsIn = false
				keys[i] = r
			}
		}
		existing, err := t.importExisting(keys)
		if err != nil {
			return err
		}
		var creates []pendingCreate
		for i, row := range b.Rows {
			ex := existing[i]
			ch := b.Decide(i, ex)
			if ch.Outcome == ImportCreated {
				creates = append(creates, pendingCreate{row: row, ch: ch})
			} else if err := t.applyImportRow(row, ex, ch); err != nil {
				return fmt.Errorf("line %d: %w", row.Line, err)
			}
			switch ch.Outcome {
			case ImportCreated:
				counts.Created++
			case ImportUpdated:
				counts.Updated++
			case ImportUnchanged:
				counts.Unchanged++
			case ImportSkipped:
				counts.Skipped++
				rejects = append(rejects, ImportReject{Line: row.Line, Kind: ImportSkipped, Reason: ch.Reason, WaID: row.WaID, Cells: row.Cells})
			default:
				counts.Rejected++
				rejects = append(rejects, ImportReject{Line: row.Line, Kind: ImportRejected, Reason: ch.Reason, WaID: row.WaID, Cells: row.Cells})
			}
		}
		if err := t.createImported(creates); err != nil {
			return err
		}
		if b.DryRun {
			return errDryRun
		}
		// Checked last, once: a cancel between two batches stops the next
		// one here, and the transaction rolls back whole.
		if err := t.running(b.JobID); err != nil {
			return err
		}
		if err := t.insertRejects(b.JobID, rejects); err != nil {
			return err
		}
		_, err = t.exec(`UPDATE import_jobs SET applied = applied + ?, created = created + ?, updated = updated + ?,
			unchanged = unchanged + ?, skipped = skipped + ?, rejected = rejected + ?, updated_at = ? WHERE id = ?`,
			len(b.Rows), counts.Created, counts.Updated, counts.Unchanged, counts.Skipped, counts.Rejected,
			t.now.UnixMilli(), b.JobID)
		return err
	})
	if errors.Is(err, errDryRun) {
		err = nil
	}
	return counts, rejects, err
}

// ImportProgress records a dry run's position and counts so far (a dry
// run writes nothing else; after a restart it starts over).
func (s *Store) ImportProgress(ctx context.Context, id int64, applied int, c ImportCounts) error {
	res, err := s.w.ExecContext(ctx, `UPDATE import_jobs SET applied = ?, created = ?, updated = ?, unchanged = ?,
		skipped = ?, rejected = ?, updated_at = ? WHERE id = ? AND state IN (?, ?, ?)`, applied, c.Created, c.Updated, c.Unchanged, c.Skipped,
		c.Rejected, now().UnixMilli(), id, ImportQueued, ImportValidating, ImportImporting)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrImportCancelled
	}
	return nil
}

// FinishImport ends a job: done, or checked for a dry run, whose rows
// turned down while applying are recorded here.
func (s *Store) FinishImport(ctx context.Context, id int64, dryRun bool, rejects []ImportReject) error {
	state := ImportDone
	if dryRun {
		state = ImportChecked
	}
	return s.update(ctx, func(t *wtx) error {
		if err := t.running(id); err != nil {
			return err
		}
		if err := t.insertRejects(id, rejects); err != nil {
			return err
		}
		_, err := t.tx.ExecContext(ctx, "UPDATE import_jobs SET state = ?, updated_at = ?, finished_at = ? WHERE id = ?",
			state, t.now.UnixMilli(), t.now.UnixMilli(), id)
		return err
	})
}

// importExisting looks up what each row's number has, in a few queries
// for the whole batch (its numbers are distinct): one per 500 numbers, one
// per 500 contacts' tags.
func (t *wtx) importExisting(rows []ImportRow) ([]*ImportExisting, error) {
	const chunk = 500
	found := make(map[string]*ImportExisting, len(rows))
	byID := map[int64]*ImportExisting{}
	for i := 0; i < len(rows); i += chunk {
		part := rows[i:min(i+chunk, len(rows))]
		args := make([]any, len(part))
		for k, r := range part {
			args[k] = r.WaID
		}
		q := `SELECT wa_id, id, name, email, attributes, consent, consent_at FROM contacts WHERE wa_id IN (?` +
			strings.Repeat(", ?", len(part)-1) + ")"
		res, err := t.tx.QueryContext(t.ctx, q, args...)
		if err != nil {
			return nil, err
		}
		for res.Next() {
			var ex ImportExisting
			var waID, attrs string
			var consentAt sql.NullInt64
			if err := res.Scan(&waID, &ex.ID, &ex.Name, &ex.Email, &attrs, &ex.Consent, &consentAt); err != nil {
				res.Close()
				return nil, err
			}
			if consentAt.Valid {
				ex.ConsentAt = time.UnixMilli(consentAt.Int64).UTC()
			}
			if err := json.Unmarshal([]byte(attrs), &ex.Attributes); err != nil {
				ex.Attributes = nil
			}
			found[waID], byID[ex.ID] = &ex, &ex
		}
		res.Close()
		if err := res.Err(); err != nil {
			return nil, err
		}
	}
	ids := make([]any, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	for i := 0; i < len(ids); i += chunk {
		part := ids[i:min(i+chunk, len(ids))]
		res, err := t.tx.QueryContext(t.ctx, "SELECT contact_id, tag FROM contact_tags WHERE contact_id IN (?"+
			strings.Repeat(", ?", len(part)-1)+")", part...)
		if err != nil {
			return nil, err
		}
		for res.Next() {
			var id int64
			var tag string
			if err := res.Scan(&id, &tag); err != nil {
				res.Close()
				return nil, err
			}
			byID[id].Tags = append(byID[id].Tags, tag)
		}
		res.Close()
		if err := res.Err(); err != nil {
			return nil, err
		}
	}
	out := make([]*ImportExisting, len(rows))
	for i, r := range rows {
		ex := found[r.WaID]
		if r.OptsIn {
			sup, err := t.suppressed(r.WaID, "")
			if err != nil {
				return nil, err
			}
			if sup && ex == nil {
				ex = &ImportExisting{} // a number erased after it opted out: nothing exists, but the rules must know
			}
			if ex != nil {
				ex.Suppressed = sup
			}
		}
		out[i] = ex
	}
	return out, nil
}

// cachedTx is the transaction as a querier whose statements are prepared
// once (wtx.query, wtx.queryRow): an import asks the same few questions a
// hundred thousand times.
type cachedTx struct{ t *wtx }

func (c cachedTx) QueryContext(_ context.Context, query string, args ...any) (*sql.Rows, error) {
	return c.t.query(query, args...)
}

func (c cachedTx) QueryRowContext(_ context.Context, query string, args ...any) *sql.Row {
	return c.t.queryRow(query, args...)
}

func (t *wtx) applyImportRow(row ImportRow, ex *ImportExisting, ch ImportChange) error {
	switch ch.Outcome {
	case ImportUpdated:
		attrs, err := attrsJSON(ch.Attributes)
		if err != nil {
			return err
		}
		if _, err := t.exec(`UPDATE contacts SET name = ?, email = ?, attributes = ?, updated_at = ? WHERE id = ?`,
			ch.Name, ch.Email, attrs, t.now.UnixMilli(), ex.ID); err != nil {
			return err
		}
		tags, err := t.addTags(ex.ID, ex.Tags, ch.AddTags)
		if err != nil {
			return err
		}
		before := contactState{attrs: ex.Attributes, tags: ex.Tags}
		if data := changeData(before, contactState{attrs: ch.Attributes, tags: tags}); data != nil || ch.Name != ex.Name || ch.Email != ex.Email {
			if err := t.emit(events.Event{Type: events.ContactUpdated, ContactID: ex.ID, Data: data}); err != nil {
				return err
			}
		}
		if ch.Consent != "" {
			return t.importConsent(ex.ID, row.Line, ch)
		}
	}
	return nil
}

// pendingCreate is a row that creates its contact.
type pendingCreate struct {
	row ImportRow
	ch  ImportChange
	id  int64
}

// createImported creates a batch's new contacts a hundred per statement,
// their tags a few hundred per statement (per-row statements were half of
// an import's time), then records each one's event and consent.
func (t *wtx) createImported(list []pendingCreate) error {
	const chunk = 100
	now := t.now.UnixMilli()
	for i := 0; i < len(list); i += chunk {
		part := list[i:min(i+chunk, len(list))]
		at := make(map[string]int, len(part))
		args := make([]any, 0, 6*len(part))
		for k, p := range part {
			attrs, err := attrsJSON(p.ch.Attributes)
			if err != nil {
				return err
			}
			args = append(args, p.row.WaID, p.ch.Name, p.ch.Email, attrs, now, now)
			at[p.row.WaID] = k
		}
		rows, err := t.tx.QueryContext(t.ctx, `INSERT INTO contacts (wa_id, name, email, attributes, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?)`+strings.Repeat(", (?, ?, ?, ?, ?, ?)", len(part)-1)+" RETURNING id, wa_id", args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			var waID string
			if err := rows.Scan(&id, &waID); err != nil {
				rows.Close()
				return err
			}
			part[at[waID]].id = id
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	var pairs []any
	flush := func() error {
		if len(pairs) == 0 {
			return nil
		}
		_, err := t.tx.ExecContext(t.ctx, "INSERT OR IGNORE INTO contact_tags (contact_id, tag) VALUES (?, ?)"+
			strings.Repeat(", (?, ?)", len(pairs)/2-1), pairs...)
		pairs = pairs[:0]
		return err
	}
	for _, p := range list {
		for _, tag := range p.ch.AddTags {
			if pairs = append(pairs, p.id, tag); len(pairs) >= 800 {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	for _, p := range list {
		if err := t.emit(events.Event{Type: events.ContactCreated, ContactID: p.id,
			Data: changeData(contactState{}, contactState{attrs: p.ch.Attributes, tags: p.ch.AddTags})}); err != nil {
			return err
		}
		if p.ch.Consent != "" {
			if err := t.importConsent(p.id, p.row.Line, p.ch); err != nil {
				return fmt.Errorf("line %d: %w", p.row.Line, err)
			}
		}
	}
	return nil
}

// addTags adds tags a contact does not carry yet and returns all of them.
func (t *wtx) addTags(id int64, have, add []string) ([]string, error) {
	out := append([]string(nil), have...)
	var args []any
	for _, tag := range add {
		if containsFold(out, tag) {
			continue
		}
		args = append(args, id, tag)
		out = append(out, tag)
	}
	if len(args) == 0 {
		return out, nil
	}
	// One statement for all of them (a prepared one per count of tags).
	q := "INSERT OR IGNORE INTO contact_tags (contact_id, tag) VALUES (?, ?)" +
		strings.Repeat(", (?, ?)", len(args)/2-1)
	if _, err := t.exec(q, args...); err != nil {
		return nil, err
	}
	return out, nil
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

func attrsJSON(m map[string]string) (string, error) {
	if len(m) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	return string(b), err
}

// ExportContact is one contact as the export writes it.
type ExportContact struct {
	WaID          string
	Name          string
	Email         string
	Tags          []string
	Consent       string
	ConsentSource string
	ConsentAt     time.Time
	Attributes    map[string]string
}

// AttributeKeys returns every attribute key in use, sorted, for an
// export's columns.
func (s *Store) AttributeKeys(ctx context.Context) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT DISTINCT j.key FROM contacts c, json_each(c.attributes) j
		WHERE json_valid(c.attributes) ORDER BY j.key`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// ExportContacts calls fn for every contact with a phone number, by id,
// reading a page at a time so that memory stays flat however many there are.
func (s *Store) ExportContacts(ctx context.Context, fn func(ExportContact) error) error {
	const page = 1000
	var after int64
	for {
		rows, err := s.r.QueryContext(ctx, `SELECT c.id, c.wa_id, c.name, c.email, c.attributes, c.consent, c.consent_source,
			c.consent_at, (SELECT group_concat(tag, char(31)) FROM contact_tags t WHERE t.contact_id = c.id)
			FROM contacts c WHERE c.id > ? AND c.wa_id IS NOT NULL ORDER BY c.id LIMIT ?`, after, page)
		if err != nil {
			return err
		}
		var list []ExportContact
		for rows.Next() {
			var c ExportContact
			var attrs string
			var at sql.NullInt64
			var tags sql.NullString
			if err := rows.Scan(&after, &c.WaID, &c.Name, &c.Email, &attrs, &c.Consent, &c.ConsentSource, &at, &tags); err != nil {
				rows.Close()
				return err
			}
			_ = json.Unmarshal([]byte(attrs), &c.Attributes)
			if at.Valid {
				c.ConsentAt = time.UnixMilli(at.Int64).UTC()
			}
			if tags.String != "" {
				c.Tags = strings.Split(tags.String, "\x1f")
			}
			list = append(list, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, c := range list {
			if err := fn(c); err != nil {
				return err
			}
		}
		if len(list) < page {
			return nil
		}
	}
}

const schemaV17 = `
CREATE TABLE import_jobs (
	id          INTEGER PRIMARY KEY,
	file_name   TEXT NOT NULL,            -- as uploaded
	path        TEXT NOT NULL,            -- the kept copy, under the data folder
	size        INTEGER NOT NULL,
	sha256      TEXT NOT NULL,
	state       TEXT NOT NULL CHECK (state IN ('uploaded','queued','validating','importing','checked','done','failed')),
	mode        TEXT NOT NULL DEFAULT '', -- create, update, upsert
	mapping     TEXT NOT NULL DEFAULT '[]', -- JSON: the target of each column
	country     TEXT NOT NULL DEFAULT '', -- default region of numbers without a calling code
	dry_run     INTEGER NOT NULL DEFAULT 0,
	error       TEXT NOT NULL DEFAULT '',
	total_rows  INTEGER NOT NULL DEFAULT 0,
	valid_rows  INTEGER NOT NULL DEFAULT 0,
	applied     INTEGER NOT NULL DEFAULT 0, -- valid rows committed: where a restart resumes
	created     INTEGER NOT NULL DEFAULT 0,
	updated     INTEGER NOT NULL DEFAULT 0,
	unchanged   INTEGER NOT NULL DEFAULT 0,
	skipped     INTEGER NOT NULL DEFAULT 0,
	duplicates  INTEGER NOT NULL DEFAULT 0,
	rejected    INTEGER NOT NULL DEFAULT 0,
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL,
	finished_at INTEGER
);
CREATE INDEX import_jobs_state ON import_jobs(state, id);
CREATE TABLE import_rejects (
	job_id INTEGER NOT NULL REFERENCES import_jobs(id) ON DELETE CASCADE,
	line   INTEGER NOT NULL,
	kind   TEXT NOT NULL,   -- rejected, duplicate, skipped
	reason TEXT NOT NULL,
	PRIMARY KEY (job_id, line)
) WITHOUT ROWID;
`

// importConsent records an imported row's consent in the ledger, the file
// and line as proof. The ledger refuses to lift a suppression on an import
// alone (the importer has already rejected those rows).
func (t *wtx) importConsent(id int64, line int, ch ImportChange) error {
	return t.recordConsent(ConsentEntry{ContactID: id, Status: ch.Consent, Source: ConsentSourceImport,
		Detail: ch.Source, Proof: map[string]any{"import": ch.Source, "line": line}, At: ch.ConsentAt})
}

// Version 23: a rejected row keeps its cells and number, so the upload can
// be deleted once its import ends; a duplicate's reason no longer names the
// number (the number moves to wa_id, where erasure finds it).
const schemaV23 = `
ALTER TABLE import_jobs ADD COLUMN header TEXT NOT NULL DEFAULT '[]'; -- JSON: the file's first line
ALTER TABLE import_jobs ADD COLUMN purged_at INTEGER;                 -- when its rejected rows were deleted
ALTER TABLE import_rejects ADD COLUMN wa_id TEXT;                     -- the row's number, E.164 digits, when readable
ALTER TABLE import_rejects ADD COLUMN cells TEXT;                     -- JSON: the row as the file had it
UPDATE import_rejects SET wa_id = substr(reason, 19, instr(reason, ') as line') - 19),
	reason = 'the same number' || substr(reason, instr(reason, ') as line') + 1)
	WHERE kind = 'duplicate' AND reason LIKE 'the same number (+%) as line %';
CREATE INDEX import_rejects_wa_id ON import_rejects(wa_id) WHERE wa_id IS NOT NULL;
`

// ForgetImportFile records that a job's uploaded file was deleted from disk.
func (s *Store) ForgetImportFile(ctx context.Context, id int64) error {
	_, err := s.w.ExecContext(ctx, "UPDATE import_jobs SET path = '' WHERE id = ?", id)
	return err
}

// DiscardImport deletes an import's rejected rows now and ends it: a job
// still waiting or running becomes failed with why (the worker's next
// write sees it and stops; the batches it committed stay), a finished one
// keeps its state and summary. It returns the job as it was, whose file
// the caller deletes.
func (s *Store) DiscardImport(ctx context.Context, id int64) (*ImportJob, error) {
	var j *ImportJob
	err := s.update(ctx, func(t *wtx) error {
		var err error
		if j, err = scanImportJob(t.tx.QueryRowContext(ctx, "SELECT "+importCols+" FROM import_jobs WHERE id = ?", id)); err != nil {
			return err
		}
		n := t.now.UnixMilli()
		state, reason := j.State, j.Error
		switch {
		case j.Running() && j.State == ImportImporting && !j.DryRun && j.Applied > 0:
			state, reason = ImportFailed, fmt.Sprintf("cancelled after %d of %d rows: the rows imported before the cancel stay", j.Applied, j.Valid)
		case j.Running():
			state, reason = ImportFailed, "cancelled before any row was imported"
		case j.State == ImportUploaded || j.State == ImportChecked:
			state, reason = ImportFailed, "discarded before the import: the file was deleted"
		}
		if _, err := t.tx.ExecContext(ctx, "DELETE FROM import_rejects WHERE job_id = ?", id); err != nil {
			return err
		}
		_, err = t.tx.ExecContext(ctx, `UPDATE import_jobs SET state = ?, error = ?, purged_at = coalesce(purged_at, ?),
			finished_at = coalesce(finished_at, ?), updated_at = ? WHERE id = ?`, state, reason, n, n, n, id)
		return err
	})
	return j, err
}

// ExpireImportUploads ends the imports uploaded (or dry-run) but not
// started since before: failed with reason, rejected rows deleted. It
// returns them, whose files the caller deletes.
func (s *Store) ExpireImportUploads(ctx context.Context, before time.Time, reason string) ([]ImportJob, error) {
	var out []ImportJob
	err := s.update(ctx, func(t *wtx) error {
		out = nil
		rows, err := t.tx.QueryContext(ctx, "SELECT "+importCols+" FROM import_jobs WHERE state IN (?, ?) AND updated_at < ?",
			ImportUploaded, ImportChecked, before.UnixMilli())
		if err != nil {
			return err
		}
		for rows.Next() {
			j, err := scanImportJob(rows)
			if err != nil {
				rows.Close()
				return err
			}
			out = append(out, *j)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		n := t.now.UnixMilli()
		for _, j := range out {
			if _, err := t.tx.ExecContext(ctx, "DELETE FROM import_rejects WHERE job_id = ?", j.ID); err != nil {
				return err
			}
			if _, err := t.tx.ExecContext(ctx, `UPDATE import_jobs SET state = ?, error = ?, purged_at = ?, finished_at = ?,
				updated_at = ? WHERE id = ?`, ImportFailed, reason, n, n, n, j.ID); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// PurgeImportRejects deletes the rejected rows of the imports that ended
// before, and returns how many imports it purged.
func (s *Store) PurgeImportRejects(ctx context.Context, before time.Time) (int, error) {
	var purged int
	err := s.update(ctx, func(t *wtx) error {
		rows, err := t.tx.QueryContext(ctx, `SELECT id FROM import_jobs WHERE state IN (?, ?) AND purged_at IS NULL
			AND finished_at < ?`, ImportDone, ImportFailed, before.UnixMilli())
		if err != nil {
			return err
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := t.tx.ExecContext(ctx, "DELETE FROM import_rejects WHERE job_id = ?", id); err != nil {
				return err
			}
			if _, err := t.tx.ExecContext(ctx, "UPDATE import_jobs SET purged_at = ? WHERE id = ?", t.now.UnixMilli(), id); err != nil {
				return err
			}
		}
		purged = len(ids)
		return nil
	})
	return purged, err
}

// EndedImportFiles returns the imports that ended (done or failed) but
// whose uploaded file is still recorded: a stop between the end and the
// file's deletion leaves them.
func (s *Store) EndedImportFiles(ctx context.Context) ([]ImportJob, error) {
	return s.importJobs(ctx, "SELECT "+importCols+" FROM import_jobs WHERE path != '' AND state IN (?, ?)",
		ImportDone, ImportFailed)
}

// ImportPaths returns the uploaded files the imports still refer to.
func (s *Store) ImportPaths(ctx context.Context) (map[string]bool, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT path FROM import_jobs WHERE path != ''")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, err
		}
		out[p] = true
	}
	return out, rows.Err()
}

// eraseImportRows forgets a number in the rows imports turned down: the
// row's line and outcome stay (the summary still adds up), its cells and
// reason go.
func (t *wtx) eraseImportRows(waID string) error {
	if waID == "" {
		return nil
	}
	_, err := t.tx.ExecContext(t.ctx, `UPDATE import_rejects SET wa_id = NULL, cells = NULL,
		reason = 'the contact of this row was erased' WHERE wa_id = ?`, waID)
	return err
}

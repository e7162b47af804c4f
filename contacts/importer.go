package contacts

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"sendbox/business"
	"sendbox/inbox"
	"sendbox/store"
)

// MaxFileBytes is the largest file an import takes: 100 MB, a million
// rows and more of a typical export.
const MaxFileBytes = 100 << 20

// BatchRows is how many rows one transaction writes: big enough that an
// import of 100,000 rows is a hundred commits, small enough that the
// single writer is never held more than a few tens of milliseconds.
const BatchRows = 1000

// Import modes.
const (
	ModeCreate = "create" // new numbers only; existing contacts are left alone
	ModeUpdate = "update" // existing contacts only; new numbers are skipped
	ModeUpsert = "upsert" // both
)

// ErrTooLarge: the file is over MaxFileBytes.
var ErrTooLarge = fmt.Errorf("the file is over %d MB: split it, or leave out columns you do not import", MaxFileBytes>>20)

// InvalidError is a request that cannot be carried out as asked, with the
// field to fix.
type InvalidError struct {
	Field string
	Msg   string
}

func (e *InvalidError) Error() string { return e.Msg }

// Importer takes uploaded CSV files and imports them in the background,
// one at a time, resuming after a restart.
type Importer struct {
	Store *store.Store
	// Dir keeps the uploaded files (under the data folder).
	Dir string
	Log *slog.Logger
	// Now is the clock (tests); nil is time.Now.
	Now func() time.Time

	// Batch is the rows per transaction; 0 is BatchRows.
	Batch int
	// afterBatch, for tests, runs after each committed batch.
	afterBatch func()

	wake chan struct{}
	done chan struct{}
}

// NewImporter returns an importer keeping its files in dir.
func NewImporter(st *store.Store, dir string, log *slog.Logger) *Importer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Importer{Store: st, Dir: dir, Log: log, wake: make(chan struct{}, 1), done: make(chan struct{})}
}

func (im *Importer) now() time.Time {
	if im.Now != nil {
		return im.Now()
	}
	return time.Now()
}

// Upload keeps a copy of the file and reads its preview. A file that is
// not CSV in UTF-8, or is over MaxFileBytes, is refused and not kept.
func (im *Importer) Upload(ctx context.Context, name string, r io.Reader) (*store.ImportJob, *Preview, error) {
	if err := os.MkdirAll(im.Dir, 0o700); err != nil {
		return nil, nil, err
	}
	f, err := os.CreateTemp(im.Dir, "upload-*.csv")
	if err != nil {
		return nil, nil, err
	}
	keep := false
	defer func() {
		f.Close()
		if !keep {
			os.Remove(f.Name())
		}
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(r, MaxFileBytes+1))
	if err != nil {
		return nil, nil, err
	}
	if n > MaxFileBytes {
		return nil, nil, ErrTooLarge
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, nil, err
	}
	p, err := ReadPreview(f)
	if err != nil {
		return nil, nil, err
	}
	if err := f.Sync(); err != nil {
		return nil, nil, err
	}
	name = filepath.Base(strings.ReplaceAll(name, "\\", "/"))
	if name == "." || name == "/" || name == "" {
		name = "contacts.csv"
	}
	j, err := im.Store.CreateImportJob(ctx, name, f.Name(), n, hex.EncodeToString(h.Sum(nil)))
	if err != nil {
		return nil, nil, err
	}
	keep = true
	return j, p, nil
}

// Preview reads an uploaded file's preview again.
func (im *Importer) Preview(j *store.ImportJob) (*Preview, error) {
	if j.Path == "" {
		return nil, &FileError{Msg: "the uploaded file was deleted (an import keeps it only until it ends, or a day " +
			"if it is not started): upload it again"}
	}
	f, err := os.Open(j.Path)
	if err != nil {
		return nil, &FileError{Msg: "the uploaded file is gone from the data folder: upload it again"}
	}
	defer f.Close()
	return ReadPreview(f)
}

// StartRequest is how to import a file: a target per column, the mode,
// a default country for numbers written without a calling code, and
// whether to only check it.
type StartRequest struct {
	Mapping []string `json:"mapping"`
	Mode    string   `json:"mode"`
	DryRun  bool     `json:"dry_run"`
	Country string   `json:"country"`
}

// Start checks the request against the file and queues the import (or its
// dry run); the worker picks it up at once.
func (im *Importer) Start(ctx context.Context, id int64, req StartRequest) (*store.ImportJob, error) {
	j, err := im.Store.ImportJob(ctx, id)
	if err != nil {
		return nil, err
	}
	if j.Running() || j.State == store.ImportDone {
		return nil, fmt.Errorf("import %d is %s: %w", id, j.State, store.ErrImportBusy)
	}
	switch req.Mode {
	case "":
		req.Mode = ModeUpsert
	case ModeCreate, ModeUpdate, ModeUpsert:
	default:
		return nil, &InvalidError{Field: "mode", Msg: fmt.Sprintf("unknown mode %q: create, update or upsert", req.Mode)}
	}
	p, err := im.Preview(j)
	if err != nil {
		return nil, err
	}
	if req.Mapping == nil {
		req.Mapping = p.Suggested
	}
	if err := CheckMapping(req.Mapping, len(p.Columns)); err != nil {
		return nil, &InvalidError{Field: "mapping", Msg: err.Error()}
	}
	req.Country = strings.ToUpper(strings.TrimSpace(req.Country))
	if req.Country == "" {
		req.Country = im.DefaultCountry(ctx)
	} else if !ValidRegion(req.Country) {
		return nil, &InvalidError{Field: "country", Msg: fmt.Sprintf("unknown country %q: write its ISO code, such as IT, FR, ES, DE, GB", req.Country)}
	}
	if err := im.Store.QueueImport(ctx, id, req.Mode, req.Mapping, req.Country, req.DryRun); errors.Is(err, store.ErrImportFileGone) {
		return nil, &FileError{Msg: err.Error()}
	} else if err != nil {
		return nil, err
	}
	im.Wake()
	return im.Store.ImportJob(ctx, id)
}

// DefaultCountry is the country of the business profile's phone number
// (the profile has no country of its own), or "" when it has none.
func (im *Importer) DefaultCountry(ctx context.Context) string {
	p, err := business.Load(ctx, im.Store)
	if err != nil {
		return ""
	}
	return RegionOf(p.Phone)
}

// Wake tells the worker a job is waiting.
func (im *Importer) Wake() {
	select {
	case im.wake <- struct{}{}:
	default:
	}
}

// Done is closed when Run has returned: no batch is being written.
func (im *Importer) Done() <-chan struct{} { return im.done }

// Run imports queued files one at a time until ctx ends, starting with
// those a restart interrupted. Call it once.
func (im *Importer) Run(ctx context.Context) {
	defer close(im.done)
	swept := im.now() // the app sweeps once before Run (Sweep)
	for {
		j, err := im.Store.NextImportJob(ctx)
		switch {
		case err == nil:
			if err := im.process(ctx, j); err != nil {
				if ctx.Err() != nil {
					return // shutting down: the job resumes at the next start
				}
				if errors.Is(err, store.ErrImportCancelled) {
					im.Log.Info("contacts import cancelled", slog.Int64("import", j.ID))
					im.removeFile(ctx, j)
					continue
				}
				im.Log.Error("contacts import failed", slog.Int64("import", j.ID), slog.Any("err", err))
				if err := im.Store.SetImportState(context.WithoutCancel(ctx), j.ID, store.ImportFailed,
					"the import stopped on an internal error; see the server log"); err != nil {
					im.Log.Error("contacts import: record the failure", slog.Any("err", err))
				} else {
					im.removeFile(ctx, j)
				}
			}
			continue
		case !errors.Is(err, store.ErrNotFound):
			if ctx.Err() != nil {
				return
			}
			im.Log.Error("contacts import: next job", slog.Any("err", err))
		}
		if now := im.now(); now.Sub(swept) >= SweepEvery {
			swept = now
			im.Sweep(ctx, now)
		}
		select {
		case <-ctx.Done():
			return
		case <-im.wake:
		case <-time.After(time.Minute):
		}
	}
}

// pass reads the file's data rows against the job's mapping; fn gets each
// row (with its cells) and its reason when it cannot be taken. A file
// error (broken quoting) ends the pass. It returns the file's first line.
func (im *Importer) pass(j *store.ImportJob, numbers []string, fn func(r row, reason string) error) ([]string, error) {
	f, err := os.Open(j.Path)
	if err != nil {
		return nil, &FileError{Msg: "the uploaded file is gone from the data folder: upload it again"}
	}
	defer f.Close()
	rd, err := NewReader(f)
	if err != nil {
		return nil, err
	}
	head, _, err := rd.Read()
	if err != nil {
		return nil, err
	}
	head = slices.Clone(head)
	headers := make([]string, len(head))
	for i, h := range head {
		headers[i] = strings.TrimSpace(h)
	}
	if err := CheckMapping(j.Mapping, len(headers)); err != nil {
		return head, &FileError{Msg: err.Error()}
	}
	if numbers == nil {
		return head, parseParallel(rd, j, headers, fn)
	}
	return head, readRows(rd, j, headers, numbers, fn)
}

// readRows is the second pass, in file order on one core.
func readRows(rd *Reader, j *store.ImportJob, headers, numbers []string, fn func(r row, reason string) error) error {
	k := 0 // data rows read, blank ones left out
	for {
		rec, line, err := rd.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if blank(rec) {
			continue
		}
		// The second pass: the first read every number (libphonenumber
		// is most of the reading), in the same order.
		if k >= len(numbers) || numbers[k] == "" {
			return &FileError{Line: line, Msg: "the file changed while it was imported"}
		}
		r, reason := parseRow(rec, line, j.Mapping, headers, "", numbers[k])
		r.cells = slices.Clone(rec)
		k++
		if err := fn(r, reason); err != nil {
			return err
		}
	}
}

// parsed is a run of records read from the file, parsed by a worker.
type parsed struct {
	recs    [][]string
	lines   []int
	rows    []row
	reasons []string
	done    chan struct{}
}

// parseParallel parses the rest of the file on every core (reading phone
// numbers is most of a first pass) and gives fn the rows in file order.
// At most a few thousand rows are in memory at once.
func parseParallel(rd *Reader, j *store.ImportJob, headers []string, fn func(r row, reason string) error) error {
	const size = 1000
	workers := max(1, min(runtime.GOMAXPROCS(0), 4))
	work := make(chan *parsed, workers)
	order := make(chan *parsed, 2*workers)
	for range workers {
		go func() {
			for c := range work {
				c.rows, c.reasons = make([]row, len(c.recs)), make([]string, len(c.recs))
				for i, rec := range c.recs {
					c.rows[i], c.reasons[i] = parseRow(rec, c.lines[i], j.Mapping, headers, j.Country, "")
					c.rows[i].cells = rec // a copy already
				}
				c.recs = nil
				close(c.done)
			}
		}()
	}
	stop := make(chan struct{})
	var readErr error
	go func() {
		defer close(work)
		defer close(order)
		c := &parsed{done: make(chan struct{})}
		send := func() bool {
			select {
			case order <- c:
			case <-stop:
				return false
			}
			work <- c
			c = &parsed{done: make(chan struct{})}
			return true
		}
		for {
			rec, line, err := rd.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				readErr = err
				break
			}
			if blank(rec) {
				continue
			}
			c.recs, c.lines = append(c.recs, slices.Clone(rec)), append(c.lines, line)
			if len(c.recs) == size && !send() {
				return
			}
		}
		if len(c.recs) > 0 {
			send()
		}
	}()
	var ferr error
	for c := range order {
		<-c.done
		for i := range c.rows {
			if ferr != nil {
				break
			}
			if ferr = fn(c.rows[i], c.reasons[i]); ferr != nil {
				close(stop)
			}
		}
	}
	if ferr != nil {
		return ferr
	}
	return readErr
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// process validates the whole file, then applies it batch by batch (or,
// for a dry run, applies each batch and rolls it back). Nothing is written
// to contacts before the whole file has been read: a file broken on its
// last line changes nothing.
func (im *Importer) process(ctx context.Context, j *store.ImportJob) error {
	resume := j.State == store.ImportImporting && !j.DryRun
	if !resume {
		if err := im.Store.SetImportState(ctx, j.ID, store.ImportValidating, ""); err != nil {
			return err
		}
	}
	// Pass 1: every row read, numbers normalised, duplicates found.
	first := map[string]int32{} // number → line of its first valid row
	var counts store.ImportCounts
	var rejects []store.ImportReject
	rows, valid := 0, 0
	var numbers []string // each data row's number, "" when the row is rejected
	header, err := im.pass(j, nil, func(r row, reason string) error {
		rows++
		numbers = append(numbers, r.waID)
		if reason != "" {
			numbers[len(numbers)-1] = "-"
			counts.Rejected++
			rejects = append(rejects, store.ImportReject{Line: r.line, Kind: store.ImportRejected, Reason: reason,
				WaID: numberOf(r, j), Cells: r.cells})
			return nil
		}
		if l, ok := first[r.waID]; ok {
			counts.Duplicates++
			// The reason names the line, not the number: the number is
			// in the row's cells and wa_id, which erasing its contact clears.
			rejects = append(rejects, store.ImportReject{Line: r.line, Kind: store.ImportDuplicate,
				Reason: fmt.Sprintf("the same number as line %d: only the first is imported", l), WaID: r.waID, Cells: r.cells})
			return nil
		}
		first[r.waID] = int32(r.line)
		valid++
		return nil
	})
	if err != nil {
		return im.failed(ctx, j, resume, err)
	}
	if !resume {
		if err := im.Store.ImportValidated(ctx, j.ID, header, rows, valid, counts, rejects); err != nil {
			return err
		}
	}
	rejects = nil

	// Pass 2: apply, BatchRows at a time, from where the last commit ended.
	source := func(line int) string { return fmt.Sprintf("import: %s, line %d", j.FileName, line) }
	skip := 0
	if resume {
		skip = j.Applied
	}
	var applied int
	var dry store.ImportCounts
	var dryRejects []store.ImportReject
	size := cmp.Or(im.Batch, BatchRows)
	flush := func(b chunk) error {
		now := im.now().UTC()
		c, rj, err := im.Store.ApplyImportBatch(ctx, store.ImportBatch{JobID: j.ID, Rows: b.keys, DryRun: j.DryRun,
			Decide: func(i int, ex *store.ImportExisting) store.ImportChange {
				return decide(j.Mode, b.rows[i], ex, source(b.rows[i].line), now)
			}})
		if err != nil {
			return err
		}
		applied += len(b.rows)
		if j.DryRun {
			dry.Created += c.Created
			dry.Updated += c.Updated
			dry.Unchanged += c.Unchanged
			dry.Skipped += c.Skipped
			dry.Rejected += c.Rejected
			dryRejects = append(dryRejects, rj...)
			p := dry
			p.Rejected += counts.Rejected
			if err := im.Store.ImportProgress(ctx, j.ID, applied, p); err != nil {
				return err
			}
		}
		if im.afterBatch != nil {
			im.afterBatch()
		}
		return nil
	}
	// The file is read in a goroutine of its own, a batch ahead of the
	// writes: reading costs as much as a third of writing, and the second
	// core does it meanwhile.
	batches := make(chan chunk, 1)
	stop := make(chan struct{})
	read := make(chan error, 1)
	go func() {
		defer close(batches)
		b := chunk{rows: make([]row, 0, size), keys: make([]store.ImportRow, 0, size)}
		send := func() error {
			select {
			case batches <- b:
			case <-stop:
				return errStopped
			}
			b = chunk{rows: make([]row, 0, size), keys: make([]store.ImportRow, 0, size)}
			return nil
		}
		n := 0
		_, err := im.pass(j, numbers, func(r row, reason string) error {
			if reason != "" || first[r.waID] != int32(r.line) {
				return nil
			}
			if n++; n <= skip {
				applied++ // read before any batch is sent
				return nil
			}
			b.rows = append(b.rows, r)
			b.keys = append(b.keys, store.ImportRow{Line: r.line, WaID: r.waID, OptsIn: r.consent == store.ConsentOptedIn, Cells: r.cells})
			if len(b.rows) == size {
				return send()
			}
			return nil
		})
		if err == nil && len(b.rows) > 0 {
			err = send()
		}
		read <- err
	}()
	var werr error
	for b := range batches {
		if werr == nil {
			if werr = flush(b); werr != nil {
				close(stop)
			}
		}
	}
	if rerr := <-read; werr == nil && rerr != nil {
		werr = rerr
	}
	if werr != nil {
		return im.failed(ctx, j, true, werr)
	}
	if err := im.Store.FinishImport(ctx, j.ID, j.DryRun, dryRejects); err != nil {
		return err
	}
	if !j.DryRun {
		im.removeFile(ctx, j) // the rejected rows have their cells: the file is done with
	}
	return nil
}

// failed ends a job on a file error with what was written, or returns
// any other error (the worker records it as internal).
func (im *Importer) failed(ctx context.Context, j *store.ImportJob, wrote bool, err error) error {
	var fe *FileError
	if !errors.As(err, &fe) {
		return err
	}
	msg := "nothing was imported: " + fe.Error()
	if wrote && !j.DryRun {
		if cur, err := im.Store.ImportJob(ctx, j.ID); err == nil {
			msg = fmt.Sprintf("the import stopped after %d rows: %s", cur.Applied, fe.Error())
		}
	}
	if err := im.Store.SetImportState(ctx, j.ID, store.ImportFailed, msg); err != nil {
		return err
	}
	im.removeFile(ctx, j)
	return nil
}

// chunk is one batch of valid rows, with the keys the store looks them up by.
type chunk struct {
	rows []row
	keys []store.ImportRow
}

var errStopped = errors.New("stopped")

// decide is what a valid row does to the contact of its number (ex nil:
// none): the mode's choice, then what an import may not do. An import
// never opts back in a number that opted out after the row's consent date
// (or at all, for a row without one), nor a number that opted out before
// its contact was erased: that takes the customer's own opt-in. Names,
// e-mails and attributes the row leaves empty are kept; tags are added.
func decide(mode string, r row, ex *store.ImportExisting, source string, now time.Time) store.ImportChange {
	exists := ex != nil && ex.ID != 0
	if r.consent == store.ConsentOptedIn && ex != nil && ex.Suppressed {
		return store.ImportChange{Outcome: store.ImportRejected, Reason: "the number opted out of marketing before its contact " +
			"was erased: an import cannot opt it back in, only the customer's own opt-in can"}
	}
	at := r.consentAt
	if at.IsZero() {
		at = now
	}
	if !exists {
		if mode == ModeUpdate {
			return store.ImportChange{Outcome: store.ImportSkipped, Reason: "no contact has this number (mode update)"}
		}
		return store.ImportChange{Outcome: store.ImportCreated, Name: r.name, Email: r.email, Attributes: r.attrs,
			AddTags: r.tags, Consent: r.consent, ConsentAt: at, Source: source}
	}
	if mode == ModeCreate {
		return store.ImportChange{Outcome: store.ImportSkipped, Reason: "a contact has this number already (mode create-only)"}
	}
	ch := store.ImportChange{Outcome: store.ImportUnchanged, Name: ex.Name, Email: ex.Email, Source: source, ConsentAt: at}
	changed := false
	if r.name != "" && r.name != ex.Name {
		ch.Name, changed = r.name, true
	}
	if r.email != "" && r.email != ex.Email {
		ch.Email, changed = r.email, true
	}
	ch.Attributes = maps.Clone(ex.Attributes)
	for k, v := range r.attrs {
		if ch.Attributes == nil {
			ch.Attributes = map[string]string{}
		}
		if ch.Attributes[k] != v {
			ch.Attributes[k], changed = v, true
		}
	}
	for _, t := range r.tags {
		if !containsFold(ex.Tags, t) {
			ch.AddTags, changed = append(ch.AddTags, t), true
		}
	}
	if len(ex.Tags)+len(ch.AddTags) > inbox.MaxTags {
		return store.ImportChange{Outcome: store.ImportRejected, Reason: fmt.Sprintf("the contact would have more than %d tags", inbox.MaxTags)}
	}
	if len(ch.Attributes) > inbox.MaxAttributes {
		return store.ImportChange{Outcome: store.ImportRejected, Reason: fmt.Sprintf("the contact would have more than %d attributes", inbox.MaxAttributes)}
	}
	if r.consent != "" && r.consent != ex.Consent {
		if r.consent == store.ConsentOptedIn && ex.Consent == store.ConsentOptedOut && !r.consentAt.After(ex.ConsentAt) {
			return store.ImportChange{Outcome: store.ImportRejected, Reason: fmt.Sprintf("the contact opted out on %s: "+
				"an import row opts them back in only with a later consent date", ex.ConsentAt.Format("2006-01-02 15:04 MST"))}
		}
		ch.Consent, changed = r.consent, true
	}
	if changed {
		ch.Outcome = store.ImportUpdated
	}
	return ch
}

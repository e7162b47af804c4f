package contacts

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"sendbox/store"
)

// What an import keeps, and for how long. An uploaded file holds a whole
// patient or customer list, so it lives only as long as its import needs
// it; the rows it turned down (with their cells, so they can be fixed and
// imported again) are kept a month, then deleted.
const (
	// UploadTTL: an upload (or its dry run) not imported within a day is
	// deleted.
	UploadTTL = 24 * time.Hour
	// RejectsTTL: the rejected rows are deleted this long after their
	// import ended.
	RejectsTTL = 30 * 24 * time.Hour
	// SweepEvery is how often the worker applies the rule.
	SweepEvery = time.Hour
	// orphanAge spares a file being uploaded right now, which has no job yet.
	orphanAge = time.Hour
)

// ErrRejectsExpired: the rejected rows were deleted (kept RejectsTTL, or
// the import was discarded).
type ErrRejectsExpired struct{ At time.Time }

func (e *ErrRejectsExpired) Error() string {
	return fmt.Sprintf("the rejected rows of this import were deleted on %s: they are kept %d days after the import ends, "+
		"to keep personal data no longer than needed", e.At.Format("2006-01-02 15:04 MST"), int(RejectsTTL/(24*time.Hour)))
}

// RejectsExpireAt is when an import's rejected rows are deleted, or zero
// while it has not ended (an upload waiting for its import expires
// with it: UploadExpiresAt).
func RejectsExpireAt(j *store.ImportJob) time.Time {
	if !j.PurgedAt.IsZero() {
		return j.PurgedAt
	}
	if (j.State != store.ImportDone && j.State != store.ImportFailed) || j.FinishedAt.IsZero() {
		return time.Time{}
	}
	return j.FinishedAt.Add(RejectsTTL)
}

// UploadExpiresAt is when an upload not yet imported is deleted, or zero
// for an import that started.
func UploadExpiresAt(j *store.ImportJob) time.Time {
	if (j.State != store.ImportUploaded && j.State != store.ImportChecked) || j.Path == "" {
		return time.Time{}
	}
	return j.UpdatedAt.Add(UploadTTL)
}

// numberOf is a turned-down row's number when it can be read, so that
// erasing its contact finds the row.
func numberOf(r row, j *store.ImportJob) string {
	if r.waID != "" {
		return r.waID
	}
	for i, t := range j.Mapping {
		if t == Phone && i < len(r.cells) {
			if n, err := Normalize(unguard(r.cells[i]), j.Country); err == nil {
				return n
			}
		}
	}
	return ""
}

// removeFile deletes a job's uploaded file, then forgets it. A stop in
// between leaves the path recorded: the sweep deletes it again.
func (im *Importer) removeFile(ctx context.Context, j *store.ImportJob) {
	if j.Path == "" {
		return
	}
	if err := os.Remove(j.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		im.Log.Error("contacts import: delete the uploaded file", slog.Int64("import", j.ID), slog.Any("err", err))
		return
	}
	if err := im.Store.ForgetImportFile(context.WithoutCancel(ctx), j.ID); err != nil {
		im.Log.Error("contacts import: forget the uploaded file", slog.Int64("import", j.ID), slog.Any("err", err))
	}
}

// Discard deletes an import's file and rejected rows now. A waiting or
// running import is cancelled (what it committed stays).
func (im *Importer) Discard(ctx context.Context, id int64) (*store.ImportJob, error) {
	j, err := im.Store.DiscardImport(ctx, id)
	if err != nil {
		return nil, err
	}
	// The worker may still hold the file open: its next write sees the
	// cancel, and the file is gone once it lets go.
	im.removeFile(ctx, j)
	return im.Store.ImportJob(ctx, id)
}

// Sweep applies the retention rule as of now: uploads not imported within
// UploadTTL are deleted, rejected rows older than RejectsTTL are deleted,
// and so is any file an ended import or a stopped upload left behind. Each
// step is safe to repeat, so a stop anywhere is mended by the next sweep.
func (im *Importer) Sweep(ctx context.Context, now time.Time) {
	logErr := func(what string, err error) {
		if err != nil && ctx.Err() == nil {
			im.Log.Error("contacts import sweep: "+what, slog.Any("err", err))
		}
	}
	expired, err := im.Store.ExpireImportUploads(ctx, now.Add(-UploadTTL),
		fmt.Sprintf("the uploaded file was deleted: it was not imported within %d hours; upload it again", int(UploadTTL/time.Hour)))
	logErr("expire uploads", err)
	for i := range expired {
		im.removeFile(ctx, &expired[i])
	}
	ended, err := im.Store.EndedImportFiles(ctx)
	logErr("ended imports", err)
	for i := range ended {
		im.removeFile(ctx, &ended[i])
	}
	n, err := im.Store.PurgeImportRejects(ctx, now.Add(-RejectsTTL))
	logErr("rejected rows", err)
	if n > 0 {
		im.Log.Info("contacts import: rejected rows deleted", slog.Int("imports", n))
	}
	// Files no import refers to: an upload stopped between its file and
	// its record. Read the records after the directory, so that an upload
	// recorded meanwhile is seen.
	entries, err := os.ReadDir(im.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	logErr("read the folder", err)
	keep, err := im.Store.ImportPaths(ctx)
	if err != nil {
		logErr("import paths", err)
		return
	}
	for _, e := range entries {
		p := filepath.Join(im.Dir, e.Name())
		info, err := e.Info()
		if err != nil || e.IsDir() || keep[p] || now.Sub(info.ModTime()) < orphanAge {
			continue
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			logErr("delete a stray file", err)
			continue
		}
		im.Log.Info("contacts import: stray upload deleted", slog.String("file", e.Name()))
	}
}

// WriteRejected writes the rows an import turned down as CSV: line,
// outcome and reason, then the row's own cells, for Excel (see Export).
// They come from the store (the file is deleted when the import ends);
// *ErrRejectsExpired once they were deleted or are due to be.
func (im *Importer) WriteRejected(ctx context.Context, j *store.ImportJob, w io.Writer) error {
	if err := im.RejectsAvailable(j); err != nil {
		return err
	}
	rejects, err := im.Store.ImportRejects(ctx, j.ID)
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	out := append([]string{"line", "outcome", "reason"}, j.Header...)
	if err := cw.Write(guardAll(out)); err != nil {
		return err
	}
	for _, rj := range rejects {
		out = append(out[:0], strconv.Itoa(rj.Line), rj.Kind, rj.Reason)
		out = append(out, rj.Cells...)
		if err := cw.Write(guardAll(out)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// RejectsAvailable is nil while an import's rejected rows can be
// downloaded, *ErrRejectsExpired after.
func (im *Importer) RejectsAvailable(j *store.ImportJob) error {
	if at := RejectsExpireAt(j); !at.IsZero() && (!j.PurgedAt.IsZero() || !im.now().Before(at)) {
		return &ErrRejectsExpired{At: at}
	}
	return nil
}

// Package media keeps the files customers send: it downloads inbound media
// as soon as a message is stored (Meta's download URLs expire after five
// minutes and media ids after seven days) into the data folder, checked
// against Meta's size limits and sha256.
package media

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"sendbox/embed"
	"sendbox/events"
	"sendbox/guard"
	"sendbox/metrics"
	"sendbox/store"
	"sendbox/whatsapp"
)

// Downloader consumes media download jobs.
type Downloader struct {
	Store    *store.Store
	Broker   *embed.Broker
	Client   *whatsapp.Client
	DataDir  string // files go to DataDir/media/<sha[:2]>/<sha><ext>
	MaxBytes int64  // the operator's cap, on top of Meta's per-type limits
	Workers  int    // concurrent downloads (default 4)
	Log      *slog.Logger
	Metrics  *metrics.Registry
	// Hold, if set, holds downloads while it returns true: the disk is
	// nearly full, and one video may take what is left.
	Hold func() bool

	cc       jetstream.ConsumeContext
	stopping chan struct{}
	sem      chan struct{}
	wg       sync.WaitGroup
	results  *metrics.CounterVec
}

const maxAttempts = 6

// Start begins consuming jobs.
func (d *Downloader) Start(ctx context.Context) error {
	if d.Workers <= 0 {
		d.Workers = 4
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Metrics == nil {
		d.Metrics = metrics.NewRegistry()
	}
	d.results = d.Metrics.Counter("sendbox_media_downloads_total", "Inbound media downloads by result.", "result")
	if err := os.MkdirAll(filepath.Join(d.DataDir, "media", "tmp"), 0o700); err != nil {
		return fmt.Errorf("media folder: %w", err)
	}
	cons, err := d.Broker.Consumer(ctx, events.StreamJobs, jetstream.ConsumerConfig{
		Durable:       "media",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       5 * time.Minute,
		MaxAckPending: 256,
		MaxDeliver:    -1,
		FilterSubject: events.SubjectMediaDownload,
	})
	if err != nil {
		return err
	}
	d.sem = make(chan struct{}, d.Workers)
	d.stopping = make(chan struct{})
	d.cc, err = cons.Consume(func(m jetstream.Msg) {
		d.sem <- struct{}{}
		d.wg.Add(1)
		go func() {
			defer func() { <-d.sem; d.wg.Done() }()
			if err := guard.Do(d.Log, "download media", func() { d.handle(m) }); err != nil {
				m.NakWithDelay(10 * time.Second)
			}
		}()
	}, jetstream.PullMaxMessages(d.Workers*2), jetstream.PullExpiry(embed.PullExpiry))
	if err != nil {
		return fmt.Errorf("consume media jobs: %w", err)
	}
	return nil
}

// Stop stops taking jobs and waits for the downloads under way.
func (d *Downloader) Stop() {
	if d.cc == nil {
		return
	}
	close(d.stopping)
	d.cc.Stop()
	<-d.cc.Closed()
	d.wg.Wait()
}

// wait holds a job while Hold says so, keeping it from being delivered
// again meanwhile. It reports false if the downloader stops first.
func (d *Downloader) wait(m jetstream.Msg) bool {
	for d.Hold != nil && d.Hold() {
		m.InProgress()
		select {
		case <-d.stopping:
			m.Nak()
			return false
		case <-time.After(time.Second):
		}
	}
	return true
}

func (d *Downloader) handle(m jetstream.Msg) {
	if !d.wait(m) {
		return
	}
	var ev events.Event
	if err := json.Unmarshal(m.Data(), &ev); err != nil || ev.MessageID == 0 {
		m.Term()
		return
	}
	ctx, cancel := context.WithTimeout(events.WithActor(context.Background(), events.System("media")), 4*time.Minute)
	defer cancel()
	msg, err := d.Store.MessageByID(ctx, ev.MessageID)
	if errors.Is(err, store.ErrNotFound) {
		m.Ack()
		return
	}
	if err != nil {
		m.NakWithDelay(10 * time.Second)
		return
	}
	if msg.Media == nil || msg.Media.State != "pending" {
		m.Ack()
		return
	}
	rel, size, mimeType, err := d.fetch(ctx, msg)
	if err == nil {
		if err := d.Store.SetMediaStored(ctx, msg.ID, rel, size, mimeType); err != nil {
			m.NakWithDelay(10 * time.Second)
			return
		}
		d.results.With("stored").Inc()
		m.Ack()
		return
	}
	md, _ := m.Metadata()
	final := errors.Is(err, errFinal) || whatsapp.Classify(err) != whatsapp.Retry
	if !final && md != nil && md.NumDelivered < maxAttempts {
		delay := whatsapp.RetryDelay(err, int(md.NumDelivered)-1)
		d.Log.Warn("media download failed; will retry", slog.Int64("message", msg.ID), slog.Duration("after", delay), slog.Any("err", err))
		d.results.With("retried").Inc()
		m.NakWithDelay(delay)
		return
	}
	d.Log.Warn("media download failed", slog.Int64("message", msg.ID), slog.Any("err", err))
	if serr := d.Store.SetMediaFailed(ctx, msg.ID, err.Error()); serr != nil {
		m.NakWithDelay(10 * time.Second)
		return
	}
	d.results.With("failed").Inc()
	m.Ack()
}

// errFinal marks failures that a retry cannot fix.
var errFinal = errors.New("final")

// fetch resolves the media id to a fresh URL, downloads it within the size
// limit, checks the digest and moves it into place. It returns the path
// relative to the data folder.
func (d *Downloader) fetch(ctx context.Context, msg *store.Message) (string, int64, string, error) {
	info, err := d.Client.MediaInfo(ctx, msg.Media.ID)
	if err != nil {
		return "", 0, "", fmt.Errorf("media info: %w", err)
	}
	mimeType := cmp.Or(msg.Media.MimeType, info.MimeType)
	// Meta's per-type limits bind what a business sends; customers' files
	// reach up to 100 MB.
	limit := int64(whatsapp.MaxInboundMediaBytes)
	if d.MaxBytes > 0 && d.MaxBytes < limit {
		limit = d.MaxBytes
	}
	if info.FileSize > 0 && info.FileSize > limit {
		return "", 0, "", fmt.Errorf("%w: the file is %d bytes, over the %d-byte limit for %s", errFinal, info.FileSize, limit, msg.Type)
	}
	tmp, err := os.CreateTemp(filepath.Join(d.DataDir, "media", "tmp"), "dl-*")
	if err != nil {
		return "", 0, "", err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	h := sha256.New()
	n, err := d.Client.Download(ctx, info.URL, limit, io.MultiWriter(tmp, h))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, whatsapp.ErrTooLarge) {
		return "", 0, "", fmt.Errorf("%w: the file is over the %d-byte limit for %s", errFinal, limit, msg.Type)
	}
	if err != nil {
		return "", 0, "", fmt.Errorf("download: %w", err)
	}
	sum := h.Sum(nil)
	for _, want := range []string{msg.Media.SHA256, info.SHA256} {
		if !whatsapp.SHA256Matches(want, sum) {
			// A cut transfer fails as an I/O error; a complete file with the
			// wrong digest is not what the customer sent, and never will be.
			return "", 0, "", fmt.Errorf("%w: the downloaded file's sha256 does not match %q", errFinal, want)
		}
	}
	hexSum := hex.EncodeToString(sum)
	rel := filepath.Join("media", hexSum[:2], hexSum+extension(mimeType, msg.Media.Filename))
	dst := filepath.Join(d.DataDir, rel)
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return "", 0, "", err
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return "", 0, "", err
	}
	return rel, n, mimeType, nil
}

// extension picks a file extension from the filename or the MIME type.
func extension(mimeType, filename string) string {
	if ext := strings.ToLower(filepath.Ext(filename)); ext != "" && len(ext) <= 8 && !strings.ContainsAny(ext, `/\`) {
		return ext
	}
	base, _, _ := strings.Cut(mimeType, ";")
	switch strings.TrimSpace(base) {
	case "image/jpeg":
		return ".jpg"
	case "audio/ogg":
		return ".ogg"
	case "audio/mpeg":
		return ".mp3"
	case "video/mp4":
		return ".mp4"
	case "image/webp":
		return ".webp"
	case "application/pdf":
		return ".pdf"
	}
	if exts, _ := mime.ExtensionsByType(base); len(exts) > 0 {
		return exts[0]
	}
	return ".bin"
}

package sim

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// mediaItem is one stored file.
type mediaItem struct {
	id      string
	mime    string
	data    []byte
	sum     [32]byte
	created time.Time
	expires time.Time // media ids are valid 30 days (uploads) or 7 days (inbound) at Meta
}

// mediaStore keeps media in memory under a byte cap, evicting the oldest.
// Media is not persisted: Meta's ids expire anyway, and a sandbox restart
// losing test pictures is harmless.
type mediaStore struct {
	mu    sync.Mutex
	items map[string]*mediaItem
	order []string // insertion order, may hold deleted ids (skipped on eviction)
	total int64
	cap   int64
}

func newMediaStore(capBytes int64) *mediaStore {
	return &mediaStore{items: make(map[string]*mediaItem), cap: capBytes}
}

// put stores data under a fresh id and returns the item.
func (ms *mediaStore) put(mimeType string, data []byte, now time.Time, ttl time.Duration) *mediaItem {
	it := &mediaItem{id: newMediaID(), mime: mimeType, data: data, sum: sha256.Sum256(data), created: now, expires: now.Add(ttl)}
	ms.mu.Lock()
	defer ms.mu.Unlock()
	ms.items[it.id] = it
	ms.order = append(ms.order, it.id)
	ms.total += int64(len(data))
	for ms.total > ms.cap && len(ms.order) > 1 {
		old := ms.order[0]
		ms.order = ms.order[1:]
		if o := ms.items[old]; o != nil && o != it {
			ms.total -= int64(len(o.data))
			delete(ms.items, old)
		}
	}
	if len(ms.order) > 2*len(ms.items)+64 {
		live := ms.order[:0:0]
		for _, id := range ms.order {
			if ms.items[id] != nil {
				live = append(live, id)
			}
		}
		ms.order = live
	}
	return it
}

// get returns a live item.
func (ms *mediaStore) get(id string, now time.Time) *mediaItem {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	it := ms.items[id]
	if it == nil || now.After(it.expires) {
		return nil
	}
	return it
}

// remove deletes an item and reports whether it existed.
func (ms *mediaStore) remove(id string) bool {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	it := ms.items[id]
	if it == nil {
		return false
	}
	ms.total -= int64(len(it.data))
	delete(ms.items, id)
	return true
}

// newMediaID looks like Meta's numeric media ids (16 digits), which never
// collide with the 15-digit phone number and WABA ids of the defaults.
func newMediaID() string {
	var b [8]byte
	rand.Read(b[:])
	return strconv.FormatUint(1_000_000_000_000_000+binary.BigEndian.Uint64(b[:])%9_000_000_000_000_000, 10)
}

// mediaLimits are Meta's accepted upload types and their size caps
// (shared docs §6).
var mediaLimits = map[string]int64{
	"audio/aac": 16 << 20, "audio/amr": 16 << 20, "audio/mpeg": 16 << 20, "audio/mp4": 16 << 20, "audio/ogg": 16 << 20,
	"text/plain": 100 << 20, "application/pdf": 100 << 20,
	"application/msword": 100 << 20, "application/vnd.openxmlformats-officedocument.wordprocessingml.document": 100 << 20,
	"application/vnd.ms-excel": 100 << 20, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": 100 << 20,
	"application/vnd.ms-powerpoint": 100 << 20, "application/vnd.openxmlformats-officedocument.presentationml.presentation": 100 << 20,
	"image/jpeg": 5 << 20, "image/png": 5 << 20,
	"image/webp": 500 << 10,
	"video/mp4":  16 << 20, "video/3gpp": 16 << 20,
}

// maxUpload bounds an upload request (the largest type plus form overhead).
const maxUpload = 100<<20 + 1<<20

// handleUpload serves POST /{version}/{pnid}/media (multipart form with
// messaging_product, type and file).
func (s *Simulator) handleUpload(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
	mr, err := r.MultipartReader()
	if err != nil {
		writeError(w, paramError(CodeInvalidParameter, "The parameter file is required.", "expected a multipart/form-data body: "+err.Error()))
		return
	}
	var product, typ, partType string
	var data []byte
	gotFile := false
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			writeError(w, messagingError(CodeMediaUpload, "could not read the upload: "+err.Error()))
			return
		}
		switch p.FormName() {
		case "messaging_product":
			product = readField(p)
		case "type":
			typ = readField(p)
		case "file":
			gotFile = true
			partType = p.Header.Get("Content-Type")
			if data, err = io.ReadAll(p); err != nil {
				writeError(w, messagingError(CodeMediaUpload, "could not read the upload: "+err.Error()))
				return
			}
		}
		p.Close()
	}
	if product != "whatsapp" {
		writeError(w, paramError(CodeInvalidParameter, "The parameter messaging_product is required.", "messaging_product must be \"whatsapp\""))
		return
	}
	if !gotFile {
		writeError(w, paramError(CodeInvalidParameter, "The parameter file is required.", "file is required"))
		return
	}
	mt := typ
	if mt == "" {
		mt = partType
	}
	if parsed, _, err := mime.ParseMediaType(mt); err == nil {
		mt = parsed
	}
	limit, ok := mediaLimits[mt]
	if !ok {
		writeError(w, paramError(CodeInvalidParameter,
			fmt.Sprintf("Param file must be a file with one of the following types: %s. Received file of type '%s'.", supportedTypes(), mt),
			"unsupported media type "+mt))
		return
	}
	if int64(len(data)) > limit {
		writeError(w, messagingError(CodeMediaUpload, fmt.Sprintf("file is %d bytes; %s media may be at most %d bytes", len(data), mt, limit)))
		return
	}
	if len(data) == 0 {
		writeError(w, messagingError(CodeMediaUpload, "file is empty"))
		return
	}
	it := s.media.put(mt, data, s.now(), uploadedMediaTTL)
	writeJSON(w, http.StatusOK, map[string]string{"id": it.id})
}

// readField reads a small multipart form value.
func readField(r io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(r, 1024))
	return strings.TrimSpace(string(b))
}

// supportedTypes lists mediaLimits' keys for the error message.
func supportedTypes() string {
	return "audio/aac, audio/amr, audio/mpeg, audio/mp4, audio/ogg, text/plain, application/pdf, application/msword, " +
		"application/vnd.openxmlformats-officedocument.wordprocessingml.document, application/vnd.ms-excel, " +
		"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet, application/vnd.ms-powerpoint, " +
		"application/vnd.openxmlformats-officedocument.presentationml.presentation, image/jpeg, image/png, image/webp, video/mp4, video/3gpp"
}

// mediaInfo is GET /{version}/{media-id}'s answer.
type mediaInfo struct {
	MessagingProduct string `json:"messaging_product"`
	URL              string `json:"url"`
	MimeType         string `json:"mime_type"`
	SHA256           string `json:"sha256"`
	FileSize         int    `json:"file_size"`
	ID               string `json:"id"`
}

// handleMediaInfo serves GET /{version}/{media-id}: a download URL valid
// for five minutes, signed so that the download can check it.
func (s *Simulator) handleMediaInfo(w http.ResponseWriter, it *mediaItem) {
	exp := s.now().Add(mediaURLTTL).Unix()
	u := fmt.Sprintf("%s/media/%s?ext=%d&hash=%s", strings.TrimSuffix(s.opts.BaseURL, "/"), it.id, exp, s.mediaHash(it.id, exp))
	writeJSON(w, http.StatusOK, mediaInfo{
		MessagingProduct: "whatsapp",
		URL:              u,
		MimeType:         it.mime,
		SHA256:           hex.EncodeToString(it.sum[:]),
		FileSize:         len(it.data),
		ID:               it.id,
	})
}

// mediaHash authenticates a media id and expiry.
func (s *Simulator) mediaHash(id string, exp int64) string {
	m := hmac.New(sha256.New, s.mediaKey)
	fmt.Fprintf(m, "%s.%d", id, exp)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// handleDownload serves GET {BaseURL}/media/{id}?ext=…&hash=… (the bearer
// token has been checked): the bytes, if the URL is genuine and unexpired.
// Meta answers a stale URL with 404, which tells the client to ask for a
// fresh one.
func (s *Simulator) handleDownload(w http.ResponseWriter, r *http.Request, id string) {
	q := r.URL.Query()
	exp, err := strconv.ParseInt(q.Get("ext"), 10, 64)
	now := s.now()
	if err != nil || !hmac.Equal([]byte(q.Get("hash")), []byte(s.mediaHash(id, exp))) || now.Unix() > exp {
		http.Error(w, "URL signature mismatch or expired", http.StatusNotFound)
		return
	}
	it := s.media.get(id, now)
	if it == nil {
		http.Error(w, "media not found", http.StatusNotFound)
		return
	}
	h := w.Header()
	h.Set("Content-Type", it.mime)
	h.Set("Content-Length", strconv.Itoa(len(it.data)))
	if r.Method == http.MethodHead {
		return
	}
	w.Write(it.data)
}

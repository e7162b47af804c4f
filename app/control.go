package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"sendbox/indexing"
)

// The control socket lets the sendbox command talk to a running sendbox on
// the same machine (sendbox reindex). It is a Unix socket in the data
// folder, readable by the data folder's owner only: whoever may read the
// database may use it, nobody else.

// ControlSocket is the path of the control socket in a data folder.
func ControlSocket(dataDir string) string { return dataDir + "/control.sock" }

type control struct {
	ln      net.Listener
	srv     *http.Server
	rebuild sync.Mutex // one rebuild at a time
}

func (a *App) startControl() error {
	path := ControlSocket(a.Config.DataDir)
	// A socket left by a killed sendbox would block the bind.
	if conn, err := net.DialTimeout("unix", path, time.Second); err == nil {
		conn.Close()
		return fmt.Errorf("another sendbox is running on %s (its control socket answers)", a.Config.DataDir)
	}
	os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /reindex", a.handleControlReindex)
	a.ctl = &control{ln: ln, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}}
	go a.ctl.srv.Serve(ln)
	return nil
}

func (a *App) stopControl(ctx context.Context) {
	if a.ctl == nil {
		return
	}
	a.ctl.srv.Shutdown(ctx)
	os.Remove(ControlSocket(a.Config.DataDir))
}

// handleControlReindex rebuilds the search index from the store, streaming
// progress lines ("progress <done> <total>") and a last line "done" or
// "error <message>". Searches keep working on the old index meanwhile.
func (a *App) handleControlReindex(w http.ResponseWriter, r *http.Request) {
	if !a.ctl.rebuild.TryLock() {
		http.Error(w, "a rebuild is already running", http.StatusConflict)
		return
	}
	defer a.ctl.rebuild.Unlock()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	rc := http.NewResponseController(w)
	w.WriteHeader(http.StatusOK)
	last := time.Time{}
	err := a.Search.Rebuild(r.Context(), indexing.Source{Store: a.Store}, func(done, total int) {
		if time.Since(last) < 200*time.Millisecond && done < total {
			return
		}
		last = time.Now()
		fmt.Fprintf(w, "progress %d %d\n", done, total)
		rc.Flush()
	})
	if err != nil {
		a.Log.Error("rebuild the search index", slog.Any("err", err))
		fmt.Fprintf(w, "error %s\n", err)
		return
	}
	a.Log.Info("search index rebuilt")
	io.WriteString(w, "done\n")
}

// ErrNotRunning is returned when no sendbox answers on the control socket.
var ErrNotRunning = errors.New("no sendbox is running on this data folder")

// ControlClient talks to the control socket of a running sendbox.
func ControlClient(dataDir string) (*http.Client, error) {
	path := ControlSocket(dataDir)
	conn, err := net.DialTimeout("unix", path, 2*time.Second)
	if err != nil {
		return nil, ErrNotRunning
	}
	conn.Close()
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}}}, nil
}

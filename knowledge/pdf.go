package knowledge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ledongthuc/pdf"
)

// A PDF reader can loop forever or blow up on a malformed file (a page tree
// that contains itself is enough), and a goroutine cannot be stopped. So a
// PDF is read in a child process of this very binary, which is killed when
// it runs over pdfTimeout: a bad upload costs a refusal, never a spinning
// core or the server's memory.

const (
	childEnv = "SENDBOX_PDF_CHILD"
	childMem = 512 << 20
)

// pdfTimeout is how long a PDF may take to read (a variable for tests).
var pdfTimeout = 20 * time.Second

// canFork is set when the binary called RunChild, so it can act as the child.
var canFork atomic.Bool

// RunChild makes this process read a PDF from stdin and write its text to
// stdout, then exit, if it was started as the PDF reader; otherwise it
// returns at once. Call it first thing in main (and in TestMain).
func RunChild() {
	if os.Getenv(childEnv) != "1" {
		canFork.Store(true)
		return
	}
	debug.SetMemoryLimit(childMem)
	data, err := io.ReadAll(io.LimitReader(os.Stdin, MaxUpload+1))
	if err == nil {
		var text string
		if text, err = pdfText(data); err == nil {
			_, err = os.Stdout.WriteString(text)
		}
	}
	if err != nil {
		fmt.Fprint(os.Stderr, err)
		os.Exit(2)
	}
	os.Exit(0)
}

// fromPDF reads a PDF's text layer, in a child process when it can.
func fromPDF(data []byte) (string, error) {
	self, err := os.Executable()
	if !canFork.Load() || err != nil {
		return pdfInProcess(data)
	}
	ctx, cancel := context.WithTimeout(context.Background(), pdfTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, self)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.Stdin = bytes.NewReader(data)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	switch {
	case ctx.Err() != nil:
		return "", fmt.Errorf("the PDF could not be read in %s: it may be damaged", pdfTimeout)
	case err != nil:
		msg := strings.TrimSpace(errOut.String())
		if msg == "" {
			msg = err.Error()
		}
		return "", errors.New(msg)
	}
	return out.String(), nil
}

// pdfInProcess is the fallback for a binary that does not call RunChild:
// it gives up after pdfTimeout, though the reading goroutine may go on.
func pdfInProcess(data []byte) (string, error) {
	type result struct {
		text string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		t, err := pdfText(data)
		done <- result{t, err}
	}()
	select {
	case r := <-done:
		return r.text, r.err
	case <-time.After(pdfTimeout):
		return "", fmt.Errorf("the PDF could not be read in %s: it may be damaged", pdfTimeout)
	}
}

// maxPDFPages bounds what is read of a PDF.
const maxPDFPages = 2000

// pdfText reads a PDF's text layer. The library panics on some malformed
// files: that is a refused upload, never a crash.
func pdfText(data []byte) (text string, err error) {
	defer func() {
		if r := recover(); r != nil {
			text, err = "", fmt.Errorf("the PDF could not be read (%v)", r)
		}
	}()
	r, err := pdf.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return "", fmt.Errorf("the PDF could not be read: %w", err)
	}
	var b strings.Builder
	n := min(r.NumPage(), maxPDFPages)
	for i := 1; i <= n; i++ {
		p := r.Page(i)
		if p.V.IsNull() {
			continue
		}
		rows, err := p.GetTextByRow()
		if err != nil {
			continue
		}
		for _, row := range rows {
			var line []string
			for _, w := range row.Content {
				line = append(line, w.S)
			}
			b.WriteString(strings.Join(line, ""))
			b.WriteString("\n")
		}
		b.WriteString("\n")
		if b.Len() > MaxText {
			break
		}
	}
	return b.String(), nil
}

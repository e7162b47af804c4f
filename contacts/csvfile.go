package contacts

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// FileError is what makes a file unreadable as CSV, where a person can
// find it: its line, and the character on that line when the reader knows.
type FileError struct {
	Line int
	Char int
	Msg  string
}

func (e *FileError) Error() string {
	switch {
	case e.Line > 0 && e.Char > 0:
		return fmt.Sprintf("line %d, character %d: %s", e.Line, e.Char, e.Msg)
	case e.Line > 0:
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}

// saveAs is the advice every unreadable file gets.
const saveAs = "save it from your spreadsheet as \"CSV UTF-8 (comma delimited)\" and upload it again"

// Reader reads a CSV file in UTF-8 (with or without a byte order mark)
// whose fields are separated by commas or semicolons, record by record:
// the file is never held in memory.
type Reader struct {
	cr *csv.Reader
	// Comma is the separator found on the first line.
	Comma rune
	// BOM: the file started with a UTF-8 byte order mark (Excel's "CSV UTF-8").
	BOM bool
}

// NewReader checks the start of the file and picks its separator. A file
// that is empty, binary (an Excel workbook, a PDF), UTF-16 or not UTF-8 is
// refused with what to do.
func NewReader(r io.Reader) (*Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(64 << 10)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, err
	}
	rd := &Reader{}
	switch {
	case len(bytes.TrimSpace(head)) == 0:
		return nil, &FileError{Msg: "the file is empty"}
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		rd.BOM = true
		br.Discard(3)
		head = head[3:]
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return nil, &FileError{Msg: "the file is in UTF-16 (\"Unicode text\"), not CSV UTF-8: " + saveAs}
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return nil, &FileError{Msg: "this is an Excel workbook (.xlsx), not a CSV file: " + saveAs}
	}
	if bytes.IndexByte(head, 0) >= 0 {
		return nil, &FileError{Msg: "this is not a CSV file (it holds binary data): " + saveAs}
	}
	if line, ok := validUTF8(head); !ok {
		return nil, &FileError{Line: line, Msg: "the file is not UTF-8 text (perhaps Windows-1252 or Latin-1): " + saveAs}
	}
	rd.Comma = sniffComma(head)
	rd.cr = csv.NewReader(br)
	rd.cr.Comma = rd.Comma
	rd.cr.FieldsPerRecord = -1 // a short row has empty cells, as in a spreadsheet
	rd.cr.ReuseRecord = true
	return rd, nil
}

// validUTF8 checks b, but for a rune cut at its end, and returns the
// line of the first invalid byte.
func validUTF8(b []byte) (int, bool) {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			if len(b)-i < utf8.UTFMax && !utf8.FullRune(b[i:]) {
				return 0, true
			}
			return bytes.Count(b[:i], []byte("\n")) + 1, false
		}
		i += size
	}
	return 0, true
}

// sniffComma picks the separator of the first line: a semicolon where it
// outnumbers commas (spreadsheets in Italy, France, Germany write those),
// else a comma.
func sniffComma(head []byte) rune {
	var commas, semis int
	quoted := false
	for _, c := range head {
		switch {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == ',':
			commas++
		case c == ';':
			semis++
		case c == '\n':
			if semis > commas {
				return ';'
			}
			return ','
		}
	}
	if semis > commas {
		return ';'
	}
	return ','
}

// Read returns the next record and its line in the file (the header is
// line 1), or io.EOF. The record is reused by the next call.
func (r *Reader) Read() ([]string, int, error) {
	rec, err := r.cr.Read()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, pe.Line, &FileError{Line: pe.Line, Char: pe.Column, Msg: quoteProblem(pe.Err)}
		}
		return nil, 0, err
	}
	line, _ := r.cr.FieldPos(0)
	for i, f := range rec {
		if !utf8.ValidString(f) {
			l, _ := r.cr.FieldPos(i)
			return nil, l, &FileError{Line: l, Msg: fmt.Sprintf("column %d is not UTF-8 text: %s", i+1, saveAs)}
		}
	}
	return rec, line, nil
}

func quoteProblem(err error) string {
	switch {
	case errors.Is(err, csv.ErrBareQuote):
		return `a quote (") inside a cell that does not start with one: write the cell in quotes and double the quote inside ("")`
	case errors.Is(err, csv.ErrQuote):
		return `a quoted cell is not closed, or has text after its closing quote: check the quotes from here on`
	}
	return err.Error()
}

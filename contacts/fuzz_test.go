package contacts

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzReadFile: whatever bytes are uploaded, reading them as a contacts
// file ends in rows or an error, never a panic, and a FileError names a
// line within the file.
func FuzzReadFile(f *testing.F) {
	for _, s := range []string{
		"phone,name\n+393471110001,Maria\n",
		"\uFEFFTelefono;Nome;Consenso\r\n347 111 0001;\"Rossi; Maria\";sì\r\n",
		"phone,name\n+393471110001,\"unclosed\n",
		"phone\n\"a\"b\n",
		"PK\x03\x04",
		"\xff\xfe",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ReadPreview(bytes.NewReader(data))
		if err != nil {
			return
		}
		m := Suggest(p.Columns)
		if len(m) > 0 {
			m[0] = Phone
		}
		rd, err := NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("the preview read it, the reader does not: %v", err)
		}
		lines := bytes.Count(data, []byte("\n")) + 1
		for {
			rec, line, err := rd.Read()
			if errors.Is(err, io.EOF) {
				return
			}
			var fe *FileError
			if errors.As(err, &fe) {
				if fe.Line < 1 || fe.Line > lines {
					t.Fatalf("line %d of a file of %d lines", fe.Line, lines)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			parseRow(rec, line, m, p.Columns, "IT", "")
		}
	})
}

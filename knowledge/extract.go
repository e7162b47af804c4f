// Package knowledge is the business's own knowledge the assistant answers
// from: documents the owner pastes or uploads and question/answer pairs,
// turned into short passages (chunks) that search and embeddings retrieve.
// This file turns uploads into text.
package knowledge

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// MaxUpload is the largest file the knowledge base accepts.
const MaxUpload = 10 << 20

// MaxText is the most text one document keeps.
const MaxText = 1 << 20

// ErrUnsupported is returned for a file type the knowledge base cannot read.
var ErrUnsupported = errors.New("the knowledge base reads .txt, .md, .html and .pdf files")

// Extract returns a document's title and text. Headings are kept as lines
// starting with "# ", which Chunk uses to label passages.
func Extract(filename string, data []byte) (title, text string, err error) {
	if len(data) > MaxUpload {
		return "", "", fmt.Errorf("the file is over %d MB", MaxUpload>>20)
	}
	switch strings.ToLower(filepath.Ext(filename)) {
	case ".txt", ".text", "":
		text, err = plain(data)
	case ".md", ".markdown":
		if text, err = plain(data); err == nil {
			text = FromMarkdown(text)
		}
	case ".html", ".htm":
		title, text, err = fromHTML(data)
	case ".pdf":
		text, err = fromPDF(data)
	default:
		return "", "", ErrUnsupported
	}
	if err != nil {
		return "", "", err
	}
	text = tidy(text)
	if strings.TrimSpace(text) == "" {
		return "", "", errors.New("no text was found in the file (a scanned PDF has only images: paste its text instead)")
	}
	if len(text) > MaxText {
		text = text[:MaxText]
		for !utf8.ValidString(text) {
			text = text[:len(text)-1]
		}
	}
	if title == "" {
		title = firstHeading(text)
	}
	if title == "" {
		title = strings.TrimSuffix(filepath.Base(filename), filepath.Ext(filename))
	}
	return title, text, nil
}

func plain(data []byte) (string, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a BOM
	if !utf8.Valid(data) {
		return "", errors.New("the file is not UTF-8 text")
	}
	return string(data), nil
}

var (
	mdLink     = regexp.MustCompile(`!?\[([^\]]*)\]\(([^)\s]*)[^)]*\)`)
	mdEmphasis = regexp.MustCompile("(\\*\\*|__|\\*|_|~~|`)")
	mdHeading  = regexp.MustCompile(`^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$`)
	mdList     = regexp.MustCompile(`^\s*(?:[-*+]|\d+[.)])\s+`)
	mdQuote    = regexp.MustCompile(`^\s*>\s?`)
)

// FromMarkdown keeps the words of Markdown and its headings as "# " lines.
func FromMarkdown(s string) string {
	var out []string
	inCode := false
	for _, line := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			inCode = !inCode
			continue
		}
		if inCode {
			out = append(out, line)
			continue
		}
		if m := mdHeading.FindStringSubmatch(line); m != nil {
			out = append(out, "# "+cleanInline(m[2]))
			continue
		}
		if strings.Trim(line, "-=*_ ") == "" && strings.TrimSpace(line) != "" {
			continue // a rule
		}
		line = mdQuote.ReplaceAllString(line, "")
		line = mdList.ReplaceAllString(line, "• ")
		out = append(out, cleanInline(line))
	}
	return strings.Join(out, "\n")
}

func cleanInline(s string) string {
	s = mdLink.ReplaceAllStringFunc(s, func(m string) string {
		sub := mdLink.FindStringSubmatch(m)
		if sub[1] == "" || strings.HasPrefix(m, "!") {
			return sub[1]
		}
		return sub[1] + " (" + sub[2] + ")"
	})
	return mdEmphasis.ReplaceAllString(s, "")
}

// blockTags end a line of text; headings become "# " lines.
var blockTags = map[string]bool{"p": true, "div": true, "br": true, "li": true, "tr": true, "table": true, "section": true,
	"article": true, "ul": true, "ol": true, "dd": true, "dt": true, "blockquote": true, "pre": true, "hr": true}

// fromHTML keeps a page's text and headings, not its scripts, styles or navigation.
func fromHTML(data []byte) (title, text string, err error) {
	z := html.NewTokenizer(bytes.NewReader(data))
	var b strings.Builder
	skip := 0
	inTitle := false
	for {
		switch z.Next() {
		case html.ErrorToken:
			if z.Err() == io.EOF {
				return strings.TrimSpace(title), b.String(), nil
			}
			return "", "", fmt.Errorf("read HTML: %w", z.Err())
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			tag := string(name)
			switch {
			case tag == "script" || tag == "style" || tag == "nav" || tag == "noscript" || tag == "template" || tag == "svg":
				skip++
			case tag == "title":
				inTitle = true
			case len(tag) == 2 && tag[0] == 'h' && tag[1] >= '1' && tag[1] <= '6':
				b.WriteString("\n# ")
			case blockTags[tag]:
				b.WriteString("\n")
				if tag == "li" {
					b.WriteString("• ")
				}
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			tag := string(name)
			switch {
			case tag == "script" || tag == "style" || tag == "nav" || tag == "noscript" || tag == "template" || tag == "svg":
				if skip > 0 {
					skip--
				}
			case tag == "title":
				inTitle = false
			case (len(tag) == 2 && tag[0] == 'h') || blockTags[tag]:
				b.WriteString("\n")
			}
		case html.TextToken:
			if skip > 0 {
				continue
			}
			t := string(z.Text())
			if inTitle {
				title += t
				continue
			}
			b.WriteString(strings.Join(strings.Fields(t), " "))
			if strings.HasSuffix(t, " ") || strings.HasSuffix(t, "\n") {
				b.WriteString(" ")
			}
		}
	}
}

var blankLines = regexp.MustCompile(`\n{3,}`)

// tidy normalises line ends and spacing.
func tidy(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(strings.Join(strings.Fields(l), " "), " ")
		if strings.HasPrefix(lines[i], "# ") && strings.TrimSpace(lines[i][2:]) == "" {
			lines[i] = ""
		}
	}
	return strings.TrimSpace(blankLines.ReplaceAllString(strings.Join(lines, "\n"), "\n\n"))
}

func firstHeading(text string) string {
	for _, l := range strings.Split(text, "\n") {
		if h, ok := strings.CutPrefix(l, "# "); ok && strings.TrimSpace(h) != "" {
			return strings.TrimSpace(h)
		}
	}
	return ""
}

package search

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/document"
	"github.com/blevesearch/bleve/v2/mapping"
	index "github.com/blevesearch/bleve_index_api"
)

// mappingVersion changes whenever the fields or analyzer chains change; an
// index built with another version still opens and serves, but Stats reports
// NeedsRebuild.
const mappingVersion = "2"

// Field names. Short, because every one is repeated in the index's field
// tables, and they are internal: the API speaks Query, not bleve fields.
const (
	fKind    = "kind"    // "message" | "contact" | "kb"
	fConv    = "conv"    // conversation id (keyword)
	fContact = "contact" // contact id (keyword); also on the contact document itself
	fAgent   = "agent"   // agent id (keyword)
	fFacet   = "f"       // status, direction, type, labels and day as prefixed terms (keyword array, docvalues), see facetTerm
	fAt      = "at"      // message time (datetime, indexed for range filters; no docvalues, see fTS)
	fTS      = "ts"      // message time, one fixed-width term (docvalues: date sort)
	fHit     = "h"       // stored only: what a Hit needs without a trip to SQLite
	fName    = "name"    // contact name (plain analyzer)
	fCText   = "ctext"   // contact username, email, tags, attribute values, notes (plain)
	fPhone   = "phone"   // contact phone, digits only (keyword)
	fPhoneR  = "phoner"  // the same digits reversed, so a suffix search is a prefix query
	fTag     = "tag"     // contact tags, folded (keyword)
	fText    = "text_"   // + lang: message text, analyzed in the detected language
	fKBText  = "kb_"     // + lang: knowledge-base title and text
)

// Kinds of documents.
const (
	KindMessage = "message"
	KindContact = "contact"
	KindKB      = "kb"
)

func textField(lang string) string { return fText + lang }
func kbField(lang string) string   { return fKBText + lang }

// Indexing options per field. Text is never stored (SQLite has it; Highlight
// re-analyzes the text the caller passes). Term vectors are kept on analyzed
// text because bleve's phrase search reads token positions from them: without
// them "velluto verde" cannot be told from "verde velluto". Measured on the
// 1M-message corpus, merged: 282 MB with them, 255 MB without, so phrases
// cost 27 bytes a message of the 1.5 KB budget.
const (
	optText    = index.IndexField | index.IncludeTermVectors
	optKeyword = index.IndexField
	optFacet   = index.IndexField | index.DocValues
	optStored  = index.StoreField
)

// newMapping declares the fields for documentation and for bleve's query
// side (analyzer lookup by name). Documents are built by hand (buildMessage…)
// and indexed with IndexAdvanced: no reflection, no dynamic fields, no _all.
func newMapping() (*mapping.IndexMappingImpl, error) {
	im := bleve.NewIndexMapping()
	if err := addAnalyzers(im); err != nil {
		return nil, err
	}
	im.IndexDynamic = false
	im.StoreDynamic = false
	im.DocValuesDynamic = false
	dm := bleve.NewDocumentStaticMapping()
	kw := func(store, dv bool) *mapping.FieldMapping {
		f := bleve.NewKeywordFieldMapping()
		f.Store, f.DocValues, f.IncludeInAll, f.IncludeTermVectors = store, dv, false, false
		return f
	}
	txt := func(an string) *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer, f.Store, f.DocValues, f.IncludeInAll, f.IncludeTermVectors = an, false, false, false, true
		return f
	}
	for _, n := range []string{fKind, fConv, fContact, fAgent, fPhone, fPhoneR, fTag} {
		dm.AddFieldMappingsAt(n, kw(false, false))
	}
	dm.AddFieldMappingsAt(fFacet, kw(false, true))
	at := bleve.NewDateTimeFieldMapping()
	at.Store, at.DocValues, at.IncludeInAll = false, false, false
	dm.AddFieldMappingsAt(fAt, at)
	dm.AddFieldMappingsAt(fTS, kw(false, true))
	h := bleve.NewTextFieldMapping()
	h.Index, h.Store, h.IncludeInAll, h.DocValues = false, true, false, false
	dm.AddFieldMappingsAt(fHit, h)
	dm.AddFieldMappingsAt(fName, txt(plainAnalyzer))
	dm.AddFieldMappingsAt(fCText, txt(plainAnalyzer))
	for _, l := range Langs {
		dm.AddFieldMappingsAt(textField(l), txt(langAnalyzerName(l)))
		dm.AddFieldMappingsAt(kbField(l), txt(langAnalyzerName(l)))
	}
	im.DefaultMapping = dm
	im.DefaultAnalyzer = keyword.Name
	im.DefaultField = fName
	return im, nil
}

// Document ids: a kind letter and the id, so one index holds all kinds.
func messageDocID(id int64) string { return "m" + strconv.FormatInt(id, 10) }
func contactDocID(id int64) string { return "c" + strconv.FormatInt(id, 10) }
func kbDocID(id string) string     { return "k" + id }

func itoa(i int64) string { return strconv.FormatInt(i, 10) }

// docBuilder turns API values into bleve documents.
type docBuilder struct {
	an      *analyzers
	defLang string
}

func (b *docBuilder) kw(d *document.Document, name, v string, opt index.FieldIndexingOptions) {
	d.AddField(document.NewTextFieldCustom(name, nil, []byte(v), opt, nil))
}

func (b *docBuilder) text(d *document.Document, name, v string, lang string) {
	an := b.an.plain
	if lang != "" {
		an = b.an.lang[lang]
	}
	d.AddField(document.NewTextFieldCustom(name, nil, []byte(v), optText, an))
}

// message builds a message document. The language is detected from the text.
func (b *docBuilder) message(m *Message) *document.Document {
	d := document.NewDocument(messageDocID(m.ID))
	b.kw(d, fKind, KindMessage, optKeyword)
	if m.Text != "" {
		lang := m.Lang
		if !slices.Contains(Langs, lang) {
			lang = detectLang(m.Text, b.defLang)
		}
		b.text(d, textField(lang), m.Text, lang)
	}
	b.kw(d, fConv, itoa(m.ConversationID), optKeyword)
	b.kw(d, fContact, itoa(m.ContactID), optKeyword)
	if m.AgentID != 0 {
		b.kw(d, fAgent, itoa(m.AgentID), optKeyword)
	}
	if m.Status != "" {
		b.kw(d, fFacet, facetTerm(pStatus, m.Status), optFacet)
	}
	if m.Direction != "" {
		b.kw(d, fFacet, facetTerm(pDir, m.Direction), optFacet)
	}
	if m.Type != "" {
		b.kw(d, fFacet, facetTerm(pType, m.Type), optFacet)
	}
	for _, l := range uniqueIDs(m.Labels) {
		b.kw(d, fFacet, facetTerm(pLabel, itoa36(l)), optFacet)
	}
	at := m.At
	if !at.IsZero() {
		// A datetime field is 16 prefix-coded terms (bleve's numeric range
		// search needs them); as docvalues they are ~170 bytes a message,
		// which a date sort or facet decompresses for every hit. So the
		// range filter uses "at" without docvalues, and the sort and the
		// facets read one short term each.
		if f, err := document.NewDateTimeFieldWithIndexingOptions(fAt, nil, at, "", optKeyword); err == nil {
			d.AddField(f)
		}
		b.kw(d, fTS, tsTerm(at), optFacet)
		b.kw(d, fFacet, facetTerm(pDay, dayTerm(at)), optFacet)
	}
	b.kw(d, fHit, hitInfo(m.ConversationID, m.ContactID, at), optStored)
	return d
}

// tsTerm is a time as 6 digits of Unix seconds in an ASCII-ordered base 64:
// fixed width, so string order is time order (until the year 4147), and
// short, because a date sort decompresses this column for the whole index
// when hits are many.
func tsTerm(t time.Time) string {
	const digits = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
	v := max(t.Unix(), 0)
	var b [6]byte
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = digits[v&63]
		v >>= 6
	}
	return string(b[:])
}

// dayTerm is the UTC day of t, in days since 1970, base 36.
func dayTerm(t time.Time) string {
	return itoa36(max(t.Unix(), 0) / 86400)
}

// hitInfo packs what a Hit carries into one short stored value:
// "conv contact unixnano".
func hitInfo(conv, contact int64, at time.Time) string {
	var ns int64
	if !at.IsZero() {
		ns = at.UnixNano()
	}
	return itoa(conv) + " " + itoa(contact) + " " + itoa(ns)
}

func parseHitInfo(s string) (conv, contact int64, at time.Time) {
	f := strings.Fields(s)
	if len(f) > 0 {
		conv, _ = strconv.ParseInt(f[0], 10, 64)
	}
	if len(f) > 1 {
		contact, _ = strconv.ParseInt(f[1], 10, 64)
	}
	if len(f) > 2 {
		if ns, _ := strconv.ParseInt(f[2], 10, 64); ns != 0 {
			at = time.Unix(0, ns)
		}
	}
	return
}

func uniqueIDs(ids []int64) []int64 {
	if len(ids) < 2 {
		return ids
	}
	s := slices.Clone(ids)
	slices.Sort(s)
	return slices.Compact(s)
}

// contact builds a contact document. Names and the rest are language-neutral:
// folded, not stemmed.
func (b *docBuilder) contact(c *Contact) *document.Document {
	d := document.NewDocument(contactDocID(c.ID))
	b.kw(d, fKind, KindContact, optKeyword)
	b.kw(d, fContact, itoa(c.ID), optKeyword)
	if c.Name != "" {
		b.text(d, fName, c.Name, "")
	}
	if digits := onlyDigits(c.Phone); digits != "" {
		b.kw(d, fPhone, digits, optKeyword)
		b.kw(d, fPhoneR, reverse(digits), optKeyword)
	}
	var rest []string
	for _, s := range []string{c.Phone, c.Username, c.Email, c.Notes} {
		if s != "" {
			rest = append(rest, s)
		}
	}
	for _, t := range c.Tags {
		if t = strings.TrimSpace(t); t != "" {
			rest = append(rest, t)
			b.kw(d, fTag, foldLower(t), optKeyword)
		}
	}
	keys := make([]string, 0, len(c.Attributes))
	for k := range c.Attributes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if v := c.Attributes[k]; v != "" {
			rest = append(rest, v)
		}
	}
	// One field, one value per part: array positions keep a phrase from
	// running across two parts.
	for i, s := range rest {
		d.AddField(document.NewTextFieldCustom(fCText, []uint64{uint64(i)}, []byte(s), optText, b.an.plain))
	}
	b.kw(d, fHit, hitInfo(0, c.ID, time.Time{}), optStored)
	return d
}

// kb builds a knowledge-base chunk document: title and text in the chunk's
// detected language, in fields of their own so message queries never need a
// kind filter.
func (b *docBuilder) kb(k *KBChunk) *document.Document {
	d := document.NewDocument(kbDocID(k.ID))
	b.kw(d, fKind, KindKB, optKeyword)
	// Detected on the text alone, so Highlight(q, k.Text) picks the same
	// language; the title follows it (use HighlightLang for the title).
	lang := detectLang(cmp.Or(k.Text, k.Title), b.defLang)
	if k.Title != "" {
		d.AddField(document.NewTextFieldCustom(kbField(lang), []uint64{0}, []byte(k.Title), optText, b.an.lang[lang]))
	}
	if k.Text != "" {
		d.AddField(document.NewTextFieldCustom(kbField(lang), []uint64{1}, []byte(k.Text), optText, b.an.lang[lang]))
	}
	b.kw(d, fHit, itoa(k.DocID), optStored)
	return d
}

func onlyDigits(s string) string {
	var sb strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			sb.WriteRune(r)
		}
	}
	return sb.String()
}

func reverse(s string) string {
	b := []byte(s)
	slices.Reverse(b)
	return string(b)
}

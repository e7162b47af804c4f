package ui

import (
	"context"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"sendbox/accounts"
	"sendbox/knowledge"
	"sendbox/store"
)

// knowledgeView is the knowledge base page: what the assistant answers
// from, the forms that add to it, and the box to try a question.
type knowledgeView struct {
	Docs       []store.KBDoc // the profile first, then documents
	FAQ        []store.KBDoc
	EmbedModel string
	Chunks     int
	Embedded   int
	CanEdit    bool
	Form       kbForm
	Try        *retrievalView
	CSRF       string
}

// kbForm is what the owner submitted, kept when it was refused, with the
// reason shown by the form it came from.
type kbForm struct {
	Where               string // paste, upload, faq, faq-<id>
	Error               string
	Title, Text, Format string
	Question, Answer    string
	FAQID               int64
}

func (p *Panel) knowledgeData(ctx context.Context, r *http.Request) (*knowledgeView, error) {
	s := sessionFrom(r)
	v := &knowledgeView{EmbedModel: p.Assistant.EmbedModel(), CanEdit: accounts.Can(s.User.Role, accounts.Admin), CSRF: s.CSRF}
	all, err := p.Store.ListKB(ctx, "", v.EmbedModel)
	if err != nil {
		return nil, err
	}
	for _, d := range all {
		v.Chunks += d.Chunks
		v.Embedded += d.Embedded
		if d.Kind == store.KBFAQ {
			v.FAQ = append(v.FAQ, d)
		} else {
			v.Docs = append(v.Docs, d)
		}
	}
	return v, nil
}

func (p *Panel) knowledgePage(w http.ResponseWriter, r *http.Request, status int, form kbForm, try *retrievalView) {
	v, err := p.knowledgeData(r.Context(), r)
	if err != nil {
		p.internal(w, r, err)
		return
	}
	v.Form, v.Try = form, try
	if v.Form.Format == "" {
		v.Form.Format = "text"
	}
	p.page(w, r, status, "knowledge", &view{Title: p.T("kb.title"), Nav: "knowledge", Data: v})
}

func (p *Panel) handleKnowledge(w http.ResponseWriter, r *http.Request) {
	p.knowledgePage(w, r, http.StatusOK, kbForm{}, nil)
}

// kbError turns a refusal of the knowledge base into words for the owner,
// or reports that err is not one.
func kbError(err error) (string, bool) {
	var ve *knowledge.ValidationError
	if errors.As(err, &ve) {
		return sentence(ve.Msg), true
	}
	return "", false
}

// handleKBPaste adds (or, with an id, replaces) a document from pasted
// text or Markdown.
func (p *Panel) handleKBPaste(w http.ResponseWriter, r *http.Request) {
	f := kbForm{Where: "paste", Title: strings.TrimSpace(r.PostFormValue("title")), Text: r.PostFormValue("text"),
		Format: r.PostFormValue("format")}
	id, _ := strconv.ParseInt(r.PostFormValue("id"), 10, 64)
	source := ""
	if id != 0 {
		d, err := p.Store.KBDocByID(r.Context(), id)
		if err != nil {
			p.notFoundOr(w, r, err)
			return
		}
		if d.Kind != store.KBDocument {
			p.fail(w, r, http.StatusUnprocessableEntity, p.T("kb.not_a_document"))
			return
		}
		source = d.Source
	}
	text := strings.ReplaceAll(f.Text, "\r\n", "\n")
	if f.Format == "markdown" {
		text = knowledge.FromMarkdown(text)
	}
	d, err := p.KB.SaveDocument(r.Context(), id, f.Title, text, source, sessionFrom(r).User.ID)
	if msg, ok := kbError(err); ok {
		f.Error = msg
		if id != 0 {
			p.kbDocPage(w, r, http.StatusUnprocessableEntity, id, f)
			return
		}
		p.knowledgePage(w, r, http.StatusUnprocessableEntity, f, nil)
		return
	}
	if err != nil {
		p.internal(w, r, err)
		return
	}
	http.Redirect(w, r, "/knowledge/"+strconv.FormatInt(d.ID, 10)+"?ok=kb_saved", http.StatusSeeOther)
}

// handleKBUpload adds a document from a .txt, .md, .html or .pdf file.
func (p *Panel) handleKBUpload(w http.ResponseWriter, r *http.Request) {
	f := kbForm{Where: "upload", Title: strings.TrimSpace(r.FormValue("title"))}
	refuse := func(msg string) {
		f.Error = msg
		p.knowledgePage(w, r, http.StatusUnprocessableEntity, f, nil)
	}
	file, hdr, err := r.FormFile("file")
	if err != nil {
		refuse(p.T("kb.upload_choose"))
		return
	}
	defer file.Close()
	if hdr.Size > knowledge.MaxUpload {
		refuse(p.T("kb.upload_too_large", knowledge.MaxUpload>>20))
		return
	}
	data, err := io.ReadAll(io.LimitReader(file, knowledge.MaxUpload+1))
	if err != nil {
		p.internal(w, r, err)
		return
	}
	name := filepath.Base(hdr.Filename)
	title, text, err := knowledge.Extract(name, data)
	if err != nil {
		refuse(p.T("kb.upload_unreadable", name, sentence(err.Error())))
		return
	}
	if f.Title != "" {
		title = f.Title
	}
	if strings.TrimSpace(title) == "" {
		title = strings.TrimSuffix(name, filepath.Ext(name))
	}
	d, err := p.KB.SaveDocument(r.Context(), 0, title, text, name, sessionFrom(r).User.ID)
	if msg, ok := kbError(err); ok {
		refuse(msg)
		return
	}
	if err != nil {
		p.internal(w, r, err)
		return
	}
	http.Redirect(w, r, "/knowledge/"+strconv.FormatInt(d.ID, 10)+"?ok=kb_saved", http.StatusSeeOther)
}

// handleKBFAQ adds or edits a question and its answer.
func (p *Panel) handleKBFAQ(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PostFormValue("id"), 10, 64)
	f := kbForm{Where: "faq", FAQID: id, Question: r.PostFormValue("question"), Answer: r.PostFormValue("answer")}
	if id != 0 {
		f.Where = "faq-" + strconv.FormatInt(id, 10)
		d, err := p.Store.KBDocByID(r.Context(), id)
		if err != nil {
			p.notFoundOr(w, r, err)
			return
		}
		if d.Kind != store.KBFAQ {
			p.fail(w, r, http.StatusUnprocessableEntity, p.T("kb.not_a_faq"))
			return
		}
	}
	_, err := p.KB.SaveFAQ(r.Context(), id, f.Question, strings.ReplaceAll(f.Answer, "\r\n", "\n"), sessionFrom(r).User.ID)
	if msg, ok := kbError(err); ok {
		f.Error = msg
		p.knowledgePage(w, r, http.StatusUnprocessableEntity, f, nil)
		return
	}
	if err != nil {
		p.internal(w, r, err)
		return
	}
	http.Redirect(w, r, "/knowledge?ok=kb_saved#faq", http.StatusSeeOther)
}

// handleKBDelete removes a document or a FAQ; the profile stays.
func (p *Panel) handleKBDelete(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		p.fail(w, r, http.StatusNotFound, p.T("error.not_found"))
		return
	}
	err = p.KB.Delete(r.Context(), id)
	if msg, ok := kbError(err); ok {
		p.fail(w, r, http.StatusUnprocessableEntity, msg)
		return
	}
	if err != nil {
		p.notFoundOr(w, r, err)
		return
	}
	http.Redirect(w, r, "/knowledge?ok=deleted", http.StatusSeeOther)
}

// kbDocView is one document and its passages.
type kbDocView struct {
	Doc        *store.KBDoc
	Chunks     []store.KBChunk
	EmbedModel string
	Embedded   int
	CanEdit    bool
	Form       kbForm
	CSRF       string
}

func (p *Panel) kbDocPage(w http.ResponseWriter, r *http.Request, status int, id int64, form kbForm) {
	ctx := r.Context()
	d, err := p.Store.KBDocByID(ctx, id)
	if err != nil {
		p.notFoundOr(w, r, err)
		return
	}
	s := sessionFrom(r)
	v := &kbDocView{Doc: d, EmbedModel: p.Assistant.EmbedModel(), CanEdit: accounts.Can(s.User.Role, accounts.Admin),
		Form: form, CSRF: s.CSRF}
	if v.Chunks, err = p.Store.KBChunksOfDocs(ctx, []int64{id}); err != nil {
		p.internal(w, r, err)
		return
	}
	if v.EmbedModel != "" {
		all, err := p.Store.ListKB(ctx, d.Kind, v.EmbedModel)
		if err != nil {
			p.internal(w, r, err)
			return
		}
		for _, x := range all {
			if x.ID == id {
				v.Embedded = x.Embedded
			}
		}
	}
	if v.Form.Where == "" {
		v.Form = kbForm{Title: d.Title, Text: d.Body, Format: "text", Question: d.Question, Answer: d.Body}
	}
	p.page(w, r, status, "kbdoc", &view{Title: d.Title + " · " + p.T("kb.title"), Nav: "knowledge", Data: v})
}

func (p *Panel) handleKBDoc(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		p.fail(w, r, http.StatusNotFound, p.T("error.not_found"))
		return
	}
	p.kbDocPage(w, r, http.StatusOK, id, kbForm{})
}

// retrievalView is what the assistant would read for a question.
type retrievalView struct {
	Q          string
	Hits       []hitView
	ByWords    int
	ByMeaning  int
	Model      string
	Took       time.Duration
	Generation bool
	Quote      *hitView // without a model, the passage it would quote
	Relevant   int
	Error      string
}

type hitView struct {
	knowledge.Hit
	Coverage int // percent of the question's content words
	Relevant bool
	Strong   bool
}

// handleKBTry shows what retrieval finds for a question, and what the
// assistant would do with it.
func (p *Panel) handleKBTry(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	v := &retrievalView{Q: q}
	v.Generation, _ = p.Assistant.Generation()
	switch {
	case q == "":
		v.Error = p.T("kb.try_empty")
	case utf8.RuneCountInString(q) > 1000:
		v.Error = p.T("kb.try_long")
	default:
		ctx, cancel := context.WithTimeout(r.Context(), 20*time.Second)
		res, err := p.KB.Retrieve(ctx, q, 4)
		cancel()
		if err != nil {
			p.internal(w, r, err)
			return
		}
		v.ByWords, v.ByMeaning, v.Model, v.Took = res.ByWords, res.ByMeaning, res.Model, res.Took
		for _, h := range res.Hits {
			hv := hitView{Hit: h, Coverage: int(h.Coverage()*100 + 0.5), Relevant: h.Relevant(), Strong: h.Strong()}
			if hv.Relevant {
				v.Relevant++
			}
			v.Hits = append(v.Hits, hv)
		}
		// Without a model the assistant quotes the strongest passage, a
		// FAQ before a passage that matches as well (as assistant.quote does).
		for i := range v.Hits {
			h := &v.Hits[i]
			if !h.Relevant || !h.Strong {
				continue
			}
			b := v.Quote
			if b == nil || (h.Chunk.Kind == store.KBFAQ && b.Chunk.Kind != store.KBFAQ && h.Coverage >= b.Coverage) ||
				h.Hit.Coverage() > b.Hit.Coverage() {
				v.Quote = h
			}
		}
	}
	if r.Header.Get("HX-Request") != "true" {
		p.knowledgePage(w, r, http.StatusOK, kbForm{}, v)
		return
	}
	p.fragment(w, r, "knowledge", "kb_try", v)
}

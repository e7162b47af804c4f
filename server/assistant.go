package server

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"sendbox/knowledge"
	"sendbox/policy"
	"sendbox/store"
)

// handlePolicyCheck runs the escalation policy on a text, by the very code
// path of the live bot: {"text": "..."} → {"escalate", "category", "opt_out", "matched"}.
func (a *Server) handlePolicyCheck(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Text string `json:"text"`
	}
	if !decodeJSON(w, r, 64<<10, &req) {
		return
	}
	if strings.TrimSpace(req.Text) == "" {
		writeError(w, http.StatusBadRequest, "invalid_text", "text is required: the customer message to check")
		return
	}
	if utf8.RuneCountInString(req.Text) > 4096 {
		writeError(w, http.StatusBadRequest, "invalid_text", "text is longer than 4,096 characters, the most WhatsApp allows")
		return
	}
	res := a.Assistant.Check(r.Context(), req.Text)
	if res.Matched == nil {
		res.Matched = []policy.Match{}
	}
	writeJSON(w, http.StatusOK, res)
}

// handleAssistantStatus says whether answers are generated, and by what.
func (a *Server) handleAssistantStatus(w http.ResponseWriter, r *http.Request) {
	on, why := a.Assistant.Generation()
	s := a.Assistant.Settings()
	writeJSON(w, http.StatusOK, map[string]any{
		"enabled": s.Enabled, "generation": on, "generation_off_reason": why,
		"ollama_url": a.LLM.URL(), "ollama_online": a.LLM.Online(),
		"chat_model": s.ChatModel, "embed_model": s.EmbedModel, "queued_turns": a.Assistant.Queued(),
	})
}

// handleListKnowledge lists the knowledge base's documents and FAQ.
func (a *Server) handleListKnowledge(w http.ResponseWriter, r *http.Request) {
	kind := r.URL.Query().Get("kind")
	if kind != "" && kind != store.KBDocument && kind != store.KBFAQ && kind != store.KBProfile {
		writeError(w, http.StatusBadRequest, "invalid_kind", "kind is document, faq or profile")
		return
	}
	docs, err := a.Store.ListKB(r.Context(), kind, a.Assistant.EmbedModel())
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	if docs == nil {
		docs = []store.KBDoc{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": docs, "total": len(docs)})
}

// handleAddKnowledge adds a document ({"title", "text", "format": "text" |
// "markdown"}, or a multipart "file" of .txt, .md, .html or .pdf) or a FAQ
// ({"question", "answer"}).
func (a *Server) handleAddKnowledge(w http.ResponseWriter, r *http.Request) {
	var doc *store.KBDoc
	var err error
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		r.Body = http.MaxBytesReader(w, r.Body, knowledge.MaxUpload+1<<20)
		f, hdr, ferr := r.FormFile("file")
		if ferr != nil {
			writeError(w, http.StatusBadRequest, "invalid_file", "send the document as the multipart field \"file\" (at most 10 MB)")
			return
		}
		defer f.Close()
		data, rerr := io.ReadAll(io.LimitReader(f, knowledge.MaxUpload+1))
		if rerr != nil {
			writeError(w, http.StatusBadRequest, "invalid_file", "the file could not be read: "+rerr.Error())
			return
		}
		title, text, xerr := knowledge.Extract(hdr.Filename, data)
		if xerr != nil {
			writeError(w, http.StatusUnprocessableEntity, "unreadable_file", xerr.Error())
			return
		}
		if t := strings.TrimSpace(r.FormValue("title")); t != "" {
			title = t
		}
		doc, err = a.KB.SaveDocument(r.Context(), 0, title, text, hdr.Filename, 0)
	} else {
		var req struct {
			Title    string `json:"title"`
			Text     string `json:"text"`
			Format   string `json:"format"`
			Question string `json:"question"`
			Answer   string `json:"answer"`
		}
		if !decodeJSON(w, r, knowledge.MaxText+64<<10, &req) {
			return
		}
		switch {
		case req.Question != "" || req.Answer != "":
			doc, err = a.KB.SaveFAQ(r.Context(), 0, req.Question, req.Answer, 0)
		case req.Format == "markdown":
			doc, err = a.KB.SaveDocument(r.Context(), 0, req.Title, knowledge.FromMarkdown(req.Text), "", 0)
		case req.Format == "" || req.Format == "text":
			doc, err = a.KB.SaveDocument(r.Context(), 0, req.Title, req.Text, "", 0)
		default:
			writeError(w, http.StatusBadRequest, "invalid_format", "format is text or markdown")
			return
		}
	}
	var ve *knowledge.ValidationError
	if errors.As(err, &ve) {
		writeError(w, http.StatusUnprocessableEntity, "invalid_knowledge", ve.Msg)
		return
	}
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, doc)
}

// handleDeleteKnowledge removes a document or FAQ.
func (a *Server) handleDeleteKnowledge(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	err := a.KB.Delete(r.Context(), id)
	var ve *knowledge.ValidationError
	if errors.As(err, &ve) {
		writeError(w, http.StatusConflict, "profile_document", ve.Msg)
		return
	}
	if err != nil {
		a.notFoundOr(w, r, err, "knowledge document")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleRetrieve shows what the assistant would read to answer a question.
func (a *Server) handleRetrieve(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if q == "" {
		writeError(w, http.StatusBadRequest, "invalid_query", "q is required: a customer's question")
		return
	}
	res, err := a.KB.Retrieve(r.Context(), q, 4)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	type hit struct {
		store.KBChunk
		Score      float64 `json:"score"`
		Via        string  `json:"via"`
		Coverage   float64 `json:"coverage"`
		Similarity float64 `json:"similarity,omitempty"`
		Relevant   bool    `json:"relevant"`
		Strong     bool    `json:"strong"`
	}
	out := []hit{}
	for _, h := range res.Hits {
		out = append(out, hit{KBChunk: h.Chunk, Score: h.Score, Via: h.Via, Coverage: h.Coverage(), Similarity: h.Similarity,
			Relevant: h.Relevant(), Strong: h.Strong()})
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out, "by_words": res.ByWords, "by_meaning": res.ByMeaning,
		"embed_model": res.Model, "took_ms": float64(res.Took.Microseconds()) / 1000})
}

// handleAIReplies lists what the assistant did in a conversation, with the
// passages each answer was based on.
func (a *Server) handleAIReplies(w http.ResponseWriter, r *http.Request) {
	id, ok := a.conversationID(w, r)
	if !ok {
		return
	}
	list, err := a.Store.AIReplies(r.Context(), id)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	if list == nil {
		list = []store.AIReply{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": list, "total": len(list)})
}

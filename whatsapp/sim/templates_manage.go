package sim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"sendbox/whatsapp"
)

// Template management as Meta serves it (docs §5.1): create
// (POST /{waba-id}/message_templates), edit (POST /{template-id}), delete
// (DELETE /{waba-id}/message_templates?name=…[&hsm_id=…]), read
// (GET /{template-id}), and the Resumable Upload API that gives a media
// header's sample its handle (POST /{app-id}/uploads, then
// POST /upload:…).
//
// The review: a created or edited template is PENDING for
// Options.TemplateReviewDelay, then the simulated reviewer decides and
// posts message_template_status_update, as Meta does. Its rules, written
// down so that a test or a demo can aim at either outcome:
//
//   - REJECTED, reason INVALID_FORMAT, when the body has two variables side
//     by side ({{1}}{{2}}) or holds nothing but variables, spaces and
//     punctuation (Meta's reviewers ask for text around each variable);
//   - REJECTED, reason PROMOTIONAL, when the name starts with "reject_"
//     (a switch for demos);
//   - a UTILITY template whose texts promise a discount ("% off",
//     "discount", "sconto", "remise", "promo") is APPROVED as MARKETING,
//     after a template_category_update webhook, as Meta recategorises;
//   - APPROVED otherwise.
//
// SetTemplateStatus, SetTemplateQuality and SetTemplateCategory post the
// later webhooks (PAUSED, DISABLED, quality changes…) on demand.

// Webhook fields of template changes.
const (
	FieldTemplateStatus   = "message_template_status_update"
	FieldTemplateCategory = "template_category_update"
	FieldTemplateQuality  = "message_template_quality_update"
)

var (
	adjacentVarsRE = regexp.MustCompile(`\}\}\s*\{\{`)
	onlyVarsRE     = regexp.MustCompile(`^[\s\p{P}]*(\{\{[^{}]+\}\}[\s\p{P}]*)+$`)
	promotionalRE  = regexp.MustCompile(`(?i)(%\s*off|discount|sconto|remise|promo)`)
)

// templateList returns copies of every template, by name then language.
func (s *Simulator) templateList() []Template {
	s.tplMu.RLock()
	defer s.tplMu.RUnlock()
	var out []Template
	for _, langs := range s.templates {
		for _, t := range langs {
			out = append(out, *t)
		}
	}
	slices.SortFunc(out, func(a, b Template) int {
		return strings.Compare(a.Name+"/"+a.Language, b.Name+"/"+b.Language)
	})
	return out
}

// byID finds a template by its Meta id. Called with tplMu held.
func (s *Simulator) byID(id string) *Template {
	for _, langs := range s.templates {
		for _, t := range langs {
			if t.ID == id || t.ID == "" && templateID(t.Name, t.Language) == id {
				return t
			}
		}
	}
	return nil
}

// Templates returns a copy of the simulator's templates, for tests.
func (s *Simulator) Templates() []Template { return s.templateList() }

// handleTemplateGet serves GET /{template-id}; false when id is no template.
func (s *Simulator) handleTemplateGet(w http.ResponseWriter, id string) bool {
	s.tplMu.RLock()
	t := s.byID(id)
	var f map[string]any
	if t != nil {
		f = t.graphFields()
	}
	s.tplMu.RUnlock()
	if t == nil {
		return false
	}
	writeJSON(w, http.StatusOK, f)
	return true
}

// templateRefusal turns a definition the checks refuse into Meta's answer:
// code 100 with a subcode and a message for the user. The subcodes are the
// ones template-management clients report for the same refusals.
func templateRefusal(err error) *graphError {
	var ve *whatsapp.ValidationError
	msg := err.Error()
	code := ""
	if errors.As(err, &ve) {
		msg, code = ve.Message, ve.Code
	}
	sub, title := 0, "Invalid parameter"
	switch code {
	case "text_too_long", "name_too_long":
		sub, title = 2388040, "Message template character limit exceeded"
	case "variable_at_edge":
		sub, title = 2388299, "Variables can't be at the start or end of the template"
	case "missing_example":
		title = "Message template example values are missing"
	case "too_many_buttons":
		title = "Too many buttons"
	}
	return &graphError{
		Message:        "(#100) Invalid parameter",
		Type:           "OAuthException",
		Code:           CodeInvalidParameter,
		ErrorSubcode:   sub,
		ErrorUserTitle: title,
		ErrorUserMsg:   msg,
		FBTraceID:      fbtraceID(),
	}
}

func invalidTemplate(title, msg string, sub int) *graphError {
	return &graphError{Message: "(#100) Invalid parameter", Type: "OAuthException", Code: CodeInvalidParameter,
		ErrorSubcode: sub, ErrorUserTitle: title, ErrorUserMsg: msg, FBTraceID: fbtraceID()}
}

// readDefinition decodes a create or edit body, which Graph also takes as
// form fields (components as a JSON string).
func readDefinition(r *http.Request) (*whatsapp.TemplateDefinition, *graphError) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, invalidTemplate("Invalid parameter", "could not read the request body", 0)
	}
	var d whatsapp.TemplateDefinition
	if err := json.Unmarshal(body, &d); err != nil {
		return nil, invalidTemplate("Invalid parameter", "the body is not a template definition: "+err.Error(), 0)
	}
	d.Category = strings.ToUpper(d.Category)
	d.ParameterFormat = strings.ToUpper(d.ParameterFormat)
	return &d, nil
}

// apply copies a definition's texts into the template the send checks read.
func (t *Template) apply(d *whatsapp.TemplateDefinition) {
	t.Header, t.Body, t.Footer, t.Buttons = "", "", "", nil
	for _, c := range d.Components {
		switch strings.ToUpper(c.Type) {
		case "HEADER":
			if f := strings.ToUpper(c.Format); f == "" || f == "TEXT" {
				t.Header = c.Text
			}
		case "BODY":
			t.Body = c.Text
		case "FOOTER":
			t.Footer = c.Text
		case "BUTTONS":
			for _, b := range c.Buttons {
				t.Buttons = append(t.Buttons, TemplateButton{Type: strings.ToUpper(b.Type), Text: b.Text, URL: b.URL})
			}
		}
	}
	if d.Category != "" {
		t.Category = d.Category
	}
	if d.ParameterFormat != "" {
		t.ParameterFormat = d.ParameterFormat
	}
	t.Components, _ = json.Marshal(d.Components)
}

// checkHandles refuses a media header whose sample handle the simulator
// did not issue. Called with tplMu held.
func (s *Simulator) checkHandles(d *whatsapp.TemplateDefinition) *graphError {
	for _, c := range d.Components {
		if strings.ToUpper(c.Type) != "HEADER" || c.Example == nil {
			continue
		}
		for _, h := range c.Example.HeaderHandle {
			if !s.validHandle(h) {
				return invalidTemplate("Invalid header_handle", "the header's sample handle is not one the Resumable Upload API issued: upload the file again", 0)
			}
		}
	}
	return nil
}

// handleTemplateCreate serves POST /{waba-id}/message_templates.
func (s *Simulator) handleTemplateCreate(w http.ResponseWriter, r *http.Request) {
	d, gerr := readDefinition(r)
	if gerr != nil {
		writeError(w, gerr)
		return
	}
	if err := d.Validate(true); err != nil {
		writeError(w, templateRefusal(err))
		return
	}
	s.tplMu.Lock()
	if gerr := s.checkHandles(d); gerr != nil {
		s.tplMu.Unlock()
		writeError(w, gerr)
		return
	}
	if s.templates[d.Name][d.Language] != nil {
		s.tplMu.Unlock()
		writeError(w, invalidTemplate("Content in this language already exists",
			fmt.Sprintf("Content for %s already exists in the template %s: edit it, or create a template with another name.", d.Language, d.Name), 2388024))
		return
	}
	t := &Template{Name: d.Name, Language: d.Language, Status: "PENDING", ID: templateID(d.Name, d.Language)}
	t.apply(d)
	if s.templates[d.Name] == nil {
		s.templates[d.Name] = make(map[string]*Template)
	}
	s.templates[d.Name][d.Language] = t
	delete(s.tplDeleted, d.Name+"/"+d.Language)
	resp := map[string]string{"id": t.ID, "status": t.Status, "category": t.Category}
	s.tplMu.Unlock()
	s.templatesChanged()
	s.scheduleReview(t.ID)
	writeJSON(w, http.StatusOK, resp)
}

// handleTemplateEdit serves POST /{template-id}; false when id is no template.
func (s *Simulator) handleTemplateEdit(w http.ResponseWriter, r *http.Request, id string) bool {
	s.tplMu.RLock()
	found := s.byID(id) != nil
	s.tplMu.RUnlock()
	if !found {
		return false
	}
	d, gerr := readDefinition(r)
	if gerr != nil {
		writeError(w, gerr)
		return true
	}
	if d.Name != "" || d.Language != "" {
		writeError(w, invalidTemplate("Invalid parameter", "a template's name and language cannot be edited", 0))
		return true
	}
	if err := d.Validate(false); err != nil {
		writeError(w, templateRefusal(err))
		return true
	}
	s.tplMu.Lock()
	t := s.byID(id)
	switch {
	case t == nil:
		s.tplMu.Unlock()
		writeError(w, objectNotFound(r.Method, id))
		return true
	case !slices.Contains([]string{"APPROVED", "REJECTED", "PAUSED", ""}, t.Status):
		st := t.Status
		s.tplMu.Unlock()
		writeError(w, invalidTemplate("Message template can't be edited",
			fmt.Sprintf("A template that is %s cannot be edited: only approved, rejected or paused templates can.", st), 0))
		return true
	case d.Category != "" && d.Category != t.Category && (t.Status == "APPROVED" || t.Status == ""):
		s.tplMu.Unlock()
		writeError(w, invalidTemplate("Category can't be changed", "The category of an approved template cannot be changed.", 0))
		return true
	}
	if gerr := s.checkHandles(d); gerr != nil {
		s.tplMu.Unlock()
		writeError(w, gerr)
		return true
	}
	if t.ID == "" {
		t.ID = templateID(t.Name, t.Language)
	}
	t.apply(d)
	t.Status, t.Reason = "PENDING", ""
	s.tplMu.Unlock()
	s.templatesChanged()
	s.scheduleReview(id)
	writeRaw(w, http.StatusOK, []byte(`{"success":true}`))
	return true
}

// handleTemplateDelete serves DELETE /{waba-id}/message_templates?name=…
// [&hsm_id=…]: every language of the name, or only the one with that id.
func (s *Simulator) handleTemplateDelete(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	name, hsm := q.Get("name"), q.Get("hsm_id")
	if name == "" {
		writeError(w, &graphError{Message: "(#100) The parameter name is required", Type: "OAuthException",
			Code: CodeInvalidParameter, FBTraceID: fbtraceID()})
		return
	}
	s.tplMu.Lock()
	n := 0
	for lang, t := range s.templates[name] {
		if hsm != "" && t.ID != hsm && templateID(t.Name, t.Language) != hsm {
			continue
		}
		delete(s.templates[name], lang)
		s.tplDeleted[name+"/"+lang] = true
		n++
	}
	if len(s.templates[name]) == 0 {
		delete(s.templates, name)
	}
	s.tplMu.Unlock()
	if n == 0 {
		writeError(w, invalidTemplate("Message template not found",
			fmt.Sprintf("No message template named %s was found.", name), 2593002))
		return
	}
	s.templatesChanged()
	writeRaw(w, http.StatusOK, []byte(`{"success":true}`))
}

// templatesChanged marks the state file dirty.
func (s *Simulator) templatesChanged() {
	s.mu.Lock()
	s.markDirty()
	s.mu.Unlock()
}

// SetTemplateReviewDelay changes Options.TemplateReviewDelay for the
// templates created or edited from now on.
func (s *Simulator) SetTemplateReviewDelay(d time.Duration) {
	s.tplMu.Lock()
	s.review = d
	s.tplMu.Unlock()
}

// scheduleReview reviews the template after the review delay.
func (s *Simulator) scheduleReview(id string) {
	s.tplMu.RLock()
	d := s.review
	s.tplMu.RUnlock()
	if d < 0 || s.closed.Load() {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		select {
		case <-s.ctx.Done():
			return
		case <-time.After(d):
		}
		s.reviewNow(id)
	}()
}

// reviewNow decides on a PENDING template by the rules above.
func (s *Simulator) reviewNow(id string) {
	s.tplMu.Lock()
	t := s.byID(id)
	if t == nil || t.Status != "PENDING" {
		s.tplMu.Unlock()
		return
	}
	text := t.Header + "\n" + t.Body + "\n" + t.Footer
	event, reason, info := "APPROVED", "NONE", map[string]string(nil)
	recategorised := ""
	switch {
	case adjacentVarsRE.MatchString(t.Body):
		event, reason = "REJECTED", "INVALID_FORMAT"
		info = map[string]string{
			"reason":         "Your template has parameters placed next to each other (like {{1}}{{2}}) without text or punctuation between them.",
			"recommendation": "Separate parameters with descriptive text and ensure each parameter is clearly contextualized.",
		}
	case onlyVarsRE.MatchString(strings.TrimSpace(t.Body)):
		event, reason = "REJECTED", "INVALID_FORMAT"
		info = map[string]string{
			"reason":         "Your template's body is only a variable: it says nothing the reviewer can check.",
			"recommendation": "Write the message around the variable, so that the reader knows who writes and why.",
		}
	case strings.HasPrefix(t.Name, "reject_"):
		event, reason = "REJECTED", "PROMOTIONAL"
		info = map[string]string{"reason": "The simulator rejects templates whose name starts with reject_.", "recommendation": "Rename the template."}
	case t.Category == "UTILITY" && promotionalRE.MatchString(text):
		recategorised = "MARKETING"
	}
	prevCategory := t.Category
	if recategorised != "" {
		t.Category = recategorised
	}
	t.Status = event
	t.Reason = ""
	if event == "REJECTED" {
		t.Reason = reason
	}
	name, lang, cat := t.Name, t.Language, t.Category
	s.tplMu.Unlock()
	s.templatesChanged()
	if recategorised != "" {
		s.postTemplateChange(FieldTemplateCategory, map[string]any{
			"message_template_id": json.Number(id), "message_template_name": name, "message_template_language": lang,
			"previous_category": prevCategory, "new_category": recategorised,
		})
	}
	v := map[string]any{
		"event": event, "message_template_id": json.Number(id), "message_template_name": name,
		"message_template_language": lang, "reason": reason, "message_template_category": cat,
	}
	if info != nil {
		v["rejection_info"] = info
	}
	s.postTemplateChange(FieldTemplateStatus, v)
}

// SetTemplateStatus sets a template's status as Meta's later decisions do
// (APPROVED, REJECTED, PAUSED, DISABLED, REINSTATED…) and posts the
// message_template_status_update webhook: PAUSED carries other_info (title
// FIRST_PAUSE), DISABLED disable_info, REJECTED reason (default
// INVALID_FORMAT).
func (s *Simulator) SetTemplateStatus(name, language, event, reason string) error {
	event = strings.ToUpper(event)
	s.tplMu.Lock()
	t := s.templates[name][language]
	if t == nil {
		s.tplMu.Unlock()
		return fmt.Errorf("whatsapp simulator: no template %s/%s", name, language)
	}
	if t.ID == "" {
		t.ID = templateID(t.Name, t.Language)
	}
	status := event
	if event == "REINSTATED" || event == "UNPAUSED" {
		status = "APPROVED"
	}
	if event == "REJECTED" && reason == "" {
		reason = "INVALID_FORMAT"
	}
	t.Status, t.Reason = status, ""
	if status == "REJECTED" {
		t.Reason = reason
	}
	v := map[string]any{
		"event": event, "message_template_id": json.Number(t.ID), "message_template_name": t.Name,
		"message_template_language": t.Language, "reason": cmpOr(reason, "NONE"), "message_template_category": t.Category,
	}
	s.tplMu.Unlock()
	switch event {
	case "PAUSED":
		v["other_info"] = map[string]string{"title": "FIRST_PAUSE",
			"description": "Your WhatsApp message template has been paused for 3 hours until 11:56 AM on Jan 25, 2026 due to low quality."}
	case "DISABLED":
		v["disable_info"] = map[string]any{"disable_date": s.now().Unix()}
	}
	s.templatesChanged()
	s.postTemplateChange(FieldTemplateStatus, v)
	return nil
}

// SetTemplateQuality changes a template's quality score and posts the
// message_template_quality_update webhook.
func (s *Simulator) SetTemplateQuality(name, language, score string) error {
	score = strings.ToUpper(score)
	s.tplMu.Lock()
	t := s.templates[name][language]
	if t == nil {
		s.tplMu.Unlock()
		return fmt.Errorf("whatsapp simulator: no template %s/%s", name, language)
	}
	prev := cmpOr(t.Quality, "UNKNOWN")
	t.Quality = score
	id := cmpOr(t.ID, templateID(t.Name, t.Language))
	s.tplMu.Unlock()
	s.templatesChanged()
	s.postTemplateChange(FieldTemplateQuality, map[string]any{
		"previous_quality_score": prev, "new_quality_score": score, "message_template_id": json.Number(id),
		"message_template_name": name, "message_template_language": language,
	})
	return nil
}

// SetTemplateCategory recategorises a template and posts the
// template_category_update webhook.
func (s *Simulator) SetTemplateCategory(name, language, category string) error {
	category = strings.ToUpper(category)
	s.tplMu.Lock()
	t := s.templates[name][language]
	if t == nil {
		s.tplMu.Unlock()
		return fmt.Errorf("whatsapp simulator: no template %s/%s", name, language)
	}
	prev := t.Category
	t.Category = category
	id := cmpOr(t.ID, templateID(t.Name, t.Language))
	s.tplMu.Unlock()
	s.templatesChanged()
	s.postTemplateChange(FieldTemplateCategory, map[string]any{
		"message_template_id": json.Number(id), "message_template_name": name, "message_template_language": language,
		"previous_category": prev, "new_category": category,
	})
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// templateHook is a template webhook waiting to be posted.
type templateHook struct {
	field string
	value map[string]any
}

// postTemplateChange queues one signed webhook of a template field, in
// Meta's envelope (entry.time in unix seconds). One worker posts them in
// order, retrying like status webhooks, so that a recategorisation comes
// before the approval it goes with. Nothing is posted without a webhook URL.
func (s *Simulator) postTemplateChange(field string, value map[string]any) {
	if s.tplHooks == nil || s.closed.Load() {
		return
	}
	select {
	case s.tplHooks <- templateHook{field, value}:
	default:
		s.log.Warn("template webhook dropped: queue full", slog.String("field", field))
	}
}

// templateHookWorker posts the queued template webhooks until Close. Two
// decisions of Meta about one template never share a second, so that the
// second one cannot pass for a retry of the first (same body, same time):
// when a review is faster than that, its webhook waits for the next second.
func (s *Simulator) templateHookWorker() {
	defer s.wg.Done()
	last := map[string]int64{} // template id and field → entry.time of its last webhook
	for {
		var h templateHook
		select {
		case <-s.ctx.Done():
			return
		case h = <-s.tplHooks:
		}
		key := fmt.Sprint(h.value["message_template_id"]) + "/" + h.field
		at := s.now().Unix()
		if at <= last[key] {
			wait := min(time.Unix(last[key]+1, 0).Sub(s.now()), time.Second) // by the simulator's clock, which tests may set
			select {
			case <-s.ctx.Done():
				return
			case <-time.After(wait):
			}
			at = max(s.now().Unix(), last[key]+1)
		}
		if len(last) > 10000 {
			clear(last)
		}
		last[key] = at
		body, _ := json.Marshal(map[string]any{
			"object": "whatsapp_business_account",
			"entry": []any{map[string]any{
				"id":      s.opts.WABAID,
				"time":    at,
				"changes": []any{map[string]any{"value": h.value, "field": h.field}},
			}},
		})
		if err := s.postWithRetry(body, 0); err != nil {
			s.log.Warn("template webhook not delivered", slog.Any("err", err))
		}
	}
}

// Resumable Upload API.

// handleUploadSession serves POST /{app-id}/uploads?file_length=&file_type=
// and answers the upload session id, "upload:…?sig=…" like Meta's.
func (s *Simulator) handleUploadSession(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	n, err := strconv.Atoi(q.Get("file_length"))
	if err != nil || n <= 0 {
		writeError(w, invalidTemplate("Invalid parameter", "file_length must be the file's size in bytes", 0))
		return
	}
	if !whatsapp.UploadFileTypes[q.Get("file_type")] {
		writeError(w, invalidTemplate("Invalid parameter", "file_type must be application/pdf, image/jpeg, image/jpg, image/png or video/mp4", 0))
		return
	}
	raw := make([]byte, 12)
	copy(raw, fbtraceID())
	sid := base64.RawURLEncoding.EncodeToString(raw)
	id := "upload:" + sid + "?sig=" + s.sign("session:" + sid)[:16]
	s.tplMu.Lock()
	if len(s.uploads) > 1000 {
		clear(s.uploads)
	}
	s.uploads[sid] = n
	s.tplMu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"id": id})
}

// handleUploadData serves POST /upload:{session}?sig=… with the bytes, a
// file_offset header and "Authorization: OAuth <token>"; it answers
// {"h": handle}.
func (s *Simulator) handleUploadData(w http.ResponseWriter, r *http.Request, id string) {
	sid := strings.TrimPrefix(id, "upload:")
	if r.URL.Query().Get("sig") != s.sign("session:" + sid)[:16] {
		writeError(w, objectNotFound(r.Method, id))
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "OAuth ") {
		writeError(w, invalidTemplate("Invalid parameter", "the upload takes the access token as Authorization: OAuth <token>", 0))
		return
	}
	if r.Header.Get("file_offset") != "0" {
		writeError(w, invalidTemplate("Invalid parameter", "file_offset must be 0 to start an upload", 0))
		return
	}
	s.tplMu.Lock()
	want, ok := s.uploads[sid]
	s.tplMu.Unlock()
	if !ok {
		writeError(w, objectNotFound(r.Method, id))
		return
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, int64(want)+1))
	if err != nil || len(b) != want {
		writeError(w, invalidTemplate("Invalid parameter", fmt.Sprintf("the session was opened for %d bytes, %d came", want, len(b)), 0))
		return
	}
	s.tplMu.Lock()
	delete(s.uploads, sid)
	s.tplMu.Unlock()
	sum := sha256.Sum256(b)
	h := "4::" + base64.RawStdEncoding.EncodeToString(sum[:12]) + ":" + s.sign(hex.EncodeToString(sum[:12]))[:20]
	writeJSON(w, http.StatusOK, map[string]string{"h": h})
}

// validHandle reports whether the simulator issued the handle h.
func (s *Simulator) validHandle(h string) bool {
	parts := strings.Split(h, ":")
	if len(parts) != 4 || parts[0] != "4" {
		return false
	}
	raw, err := base64.RawStdEncoding.DecodeString(parts[2])
	if err != nil {
		return false
	}
	return hmac.Equal([]byte(parts[3]), []byte(s.sign(hex.EncodeToString(raw))[:20]))
}

// sign is an HMAC under the simulator's media key.
func (s *Simulator) sign(v string) string {
	m := hmac.New(sha256.New, s.mediaKey)
	m.Write([]byte(v))
	return hex.EncodeToString(m.Sum(nil))
}

// savedTemplates is the template part of the state file.
type savedTemplates struct {
	Templates []Template `json:"templates,omitempty"`
	Deleted   []string   `json:"deleted_templates,omitempty"`
}

func (s *Simulator) saveTemplates() savedTemplates {
	out := savedTemplates{Templates: s.templateList()}
	s.tplMu.RLock()
	for k := range s.tplDeleted {
		out.Deleted = append(out.Deleted, k)
	}
	s.tplMu.RUnlock()
	slices.Sort(out.Deleted)
	return out
}

// loadTemplates lays saved templates over the configured ones. Called by
// New only, before anything else runs.
func (s *Simulator) loadTemplates(st savedTemplates) {
	for _, k := range st.Deleted {
		name, lang, _ := strings.Cut(k, "/")
		delete(s.templates[name], lang)
		s.tplDeleted[k] = true
	}
	for i := range st.Templates {
		t := st.Templates[i]
		if s.templates[t.Name] == nil {
			s.templates[t.Name] = make(map[string]*Template)
		}
		s.templates[t.Name][t.Language] = &t
		if t.Status == "PENDING" {
			s.scheduleLater = append(s.scheduleLater, cmpOr(t.ID, templateID(t.Name, t.Language)))
		}
	}
}

package sim

import (
	"cmp"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Handler returns the Graph-compatible API. Paths start at the version, as
// on graph.facebook.com (/v25.0/{phone-number-id}/messages…); the app mounts
// it with http.StripPrefix. Like Graph, an unversioned path is served too.
// Media download URLs (/media/{id}) are served from the same root.
func (s *Simulator) Handler() http.Handler {
	return http.HandlerFunc(s.serveHTTP)
}

func (s *Simulator) serveHTTP(w http.ResponseWriter, r *http.Request) {
	// Graph checks the token before it looks at the path.
	if e := s.checkToken(r); e != nil {
		writeError(w, e)
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) == 2 && parts[0] == "media" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		s.handleDownload(w, r, parts[1])
		return
	}
	if len(parts) > 0 && isVersion(parts[0]) {
		parts = parts[1:]
	}
	switch len(parts) {
	case 1:
		s.serveNode(w, r, parts[0])
	case 2:
		s.serveEdge(w, r, parts[0], parts[1])
	default:
		writeError(w, unsupportedRequest(r.Method))
	}
}

// isVersion reports whether a path segment is a Graph version ("v25.0").
func isVersion(p string) bool {
	if len(p) < 2 || p[0] != 'v' {
		return false
	}
	dot := false
	for i := 1; i < len(p); i++ {
		switch c := p[i]; {
		case c == '.' && !dot && i > 1:
			dot = true
		case c >= '0' && c <= '9':
		default:
			return false
		}
	}
	return true
}

// checkToken accepts "Authorization: Bearer <token>" or, as Graph does, an
// access_token query parameter.
func (s *Simulator) checkToken(r *http.Request) *graphError {
	if s.opts.Token == "" {
		return nil
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		// The Resumable Upload API takes the token as "OAuth <token>".
		tok, ok = strings.CutPrefix(r.Header.Get("Authorization"), "OAuth ")
	}
	if !ok {
		tok = r.URL.Query().Get("access_token")
	}
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return invalidToken(true)
	}
	if subtle.ConstantTimeCompare([]byte(tok), []byte(s.opts.Token)) != 1 {
		return invalidToken(false)
	}
	return nil
}

// serveNode serves /{id}: the phone number, the WABA, or a media id.
func (s *Simulator) serveNode(w http.ResponseWriter, r *http.Request, id string) {
	switch r.Method {
	case http.MethodGet:
		switch id {
		case s.opts.PhoneNumberID:
			s.handlePhoneNumber(w, r)
			return
		case s.opts.WABAID:
			s.handleWABA(w, r)
			return
		}
		if it := s.media.get(id, s.now()); it != nil {
			s.handleMediaInfo(w, it)
			return
		}
		if s.handleTemplateGet(w, id) {
			return
		}
	case http.MethodPost:
		if strings.HasPrefix(id, "upload:") {
			s.handleUploadData(w, r, id)
			return
		}
		if s.handleTemplateEdit(w, r, id) {
			return
		}
	case http.MethodDelete:
		if s.media.remove(id) {
			writeRaw(w, http.StatusOK, []byte(`{"success":true}`))
			return
		}
	}
	writeError(w, objectNotFound(r.Method, id))
}

// serveEdge serves /{id}/{edge}.
func (s *Simulator) serveEdge(w http.ResponseWriter, r *http.Request, id, edge string) {
	switch {
	case id == s.opts.PhoneNumberID && r.Method == http.MethodPost && edge == "messages":
		s.handleSend(w, r)
	case id == s.opts.PhoneNumberID && r.Method == http.MethodPost && edge == "media":
		s.handleUpload(w, r)
	case id == s.opts.WABAID && r.Method == http.MethodGet && edge == "message_templates":
		s.handleTemplateList(w)
	case id == s.opts.WABAID && r.Method == http.MethodPost && edge == "message_templates":
		s.handleTemplateCreate(w, r)
	case id == s.opts.WABAID && r.Method == http.MethodDelete && edge == "message_templates":
		s.handleTemplateDelete(w, r)
	case id == s.opts.AppID && r.Method == http.MethodPost && edge == "uploads":
		s.handleUploadSession(w, r)
	case id == s.opts.WABAID && r.Method == http.MethodGet && edge == "phone_numbers":
		writeJSON(w, http.StatusOK, map[string]any{"data": []any{s.phoneNumberFields(nil)}})
	case id != s.opts.PhoneNumberID && id != s.opts.WABAID && id != s.opts.AppID:
		writeError(w, objectNotFound(r.Method, id))
	default:
		writeError(w, unsupportedRequest(r.Method))
	}
}

// phoneNumberDefaults are the fields Graph returns when none are asked for.
var phoneNumberDefaults = []string{"verified_name", "code_verification_status", "display_phone_number", "quality_rating", "platform_type", "throughput", "id"}

// handlePhoneNumber serves GET /{phone-number-id}?fields=….
func (s *Simulator) handlePhoneNumber(w http.ResponseWriter, r *http.Request) {
	var fields []string
	if f := r.URL.Query().Get("fields"); f != "" {
		for _, name := range strings.Split(f, ",") {
			name = strings.TrimSpace(name)
			if _, ok := s.phoneNumberField(name); !ok {
				writeError(w, &graphError{
					Message:   fmt.Sprintf("(#100) Tried accessing nonexisting field (%s) on node type (WhatsAppBusinessPhoneNumber)", name),
					Type:      "OAuthException",
					Code:      CodeInvalidParameter,
					FBTraceID: fbtraceID(),
				})
				return
			}
			fields = append(fields, name)
		}
	}
	writeJSON(w, http.StatusOK, s.phoneNumberFields(fields))
}

// phoneNumberFields returns the asked fields plus id, as Graph does.
func (s *Simulator) phoneNumberFields(fields []string) map[string]any {
	if fields == nil {
		fields = phoneNumberDefaults
	}
	out := map[string]any{"id": s.opts.PhoneNumberID}
	for _, f := range fields {
		out[f], _ = s.phoneNumberField(f)
	}
	return out
}

// phoneNumberField is one field of the phone number node.
func (s *Simulator) phoneNumberField(name string) (any, bool) {
	switch name {
	case "id":
		return s.opts.PhoneNumberID, true
	case "display_phone_number":
		return formatDisplayNumber(s.opts.DisplayPhoneNumber), true
	case "verified_name":
		return "Sendbox Sandbox", true
	case "quality_rating":
		return "GREEN", true
	case "throughput":
		level := "STANDARD"
		if s.opts.MPS >= 1000 {
			level = "HIGH"
		}
		return map[string]string{"level": level}, true
	case "name_status":
		return "APPROVED", true
	case "whatsapp_business_manager_messaging_limit":
		return "TIER_250", true
	case "messaging_limit_tier": // deprecated by Meta, still answered
		return "TIER_250", true
	case "code_verification_status":
		return "VERIFIED", true
	case "platform_type":
		return "CLOUD_API", true
	case "status":
		return "CONNECTED", true
	case "is_official_business_account":
		return false, true
	case "account_mode":
		return "SANDBOX", true
	}
	return nil, false
}

// formatDisplayNumber writes digits the way Graph shows a number, e.g.
// "+1 555-000-0001" for North American numbers, "+<digits>" otherwise.
func formatDisplayNumber(d string) string {
	if len(d) == 11 && d[0] == '1' {
		return "+1 " + d[1:4] + "-" + d[4:7] + "-" + d[7:]
	}
	return "+" + d
}

// handleWABA serves GET /{waba-id}.
func (s *Simulator) handleWABA(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"id":                         s.opts.WABAID,
		"name":                       "Sendbox Sandbox",
		"currency":                   "USD",
		"timezone_id":                "1",
		"message_template_namespace": "sendbox_sandbox",
	})
}

// handleTemplateList serves GET /{waba-id}/message_templates with every
// template in one page, with its review status and quality.
func (s *Simulator) handleTemplateList(w http.ResponseWriter) {
	var data []map[string]any
	for _, t := range s.templateList() {
		data = append(data, t.graphFields())
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "paging": map[string]any{"cursors": map[string]string{"before": "MAZDZD", "after": "MjQZD"}}})
}

// graphFields is the template as Graph lists it.
func (t *Template) graphFields() map[string]any {
	comps := t.Components
	if len(comps) == 0 {
		var list []map[string]any
		if t.Header != "" {
			list = append(list, map[string]any{"type": "HEADER", "format": "TEXT", "text": t.Header})
		}
		list = append(list, map[string]any{"type": "BODY", "text": t.Body})
		if t.Footer != "" {
			list = append(list, map[string]any{"type": "FOOTER", "text": t.Footer})
		}
		if len(t.Buttons) > 0 {
			list = append(list, map[string]any{"type": "BUTTONS", "buttons": t.Buttons})
		}
		comps, _ = json.Marshal(list)
	}
	format := t.ParameterFormat
	if format == "" {
		format = "POSITIONAL"
		if ps := placeholders(t.Header + " " + t.Body); len(ps) > 0 && (ps[0][0] < '0' || ps[0][0] > '9') {
			format = "NAMED"
		}
	}
	out := map[string]any{
		"name":             t.Name,
		"language":         t.Language,
		"status":           cmp.Or(t.Status, "APPROVED"),
		"category":         strings.ToUpper(cmp.Or(t.Category, "UTILITY")),
		"parameter_format": strings.ToUpper(format),
		"components":       comps,
		"id":               cmp.Or(t.ID, templateID(t.Name, t.Language)),
		"quality_score":    map[string]any{"score": cmp.Or(t.Quality, "UNKNOWN")},
	}
	if t.Reason != "" {
		out["rejected_reason"] = t.Reason
	}
	return out
}

// templateID is a stable numeric id for a template translation.
func templateID(name, lang string) string {
	var h uint64 = 14695981039346656037
	for _, c := range []byte(name + "/" + lang) {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return fmt.Sprint(1_000_000_000_000_000 + h%9_000_000_000_000_000)
}

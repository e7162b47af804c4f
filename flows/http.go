package flows

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"sendbox/embed"
	"sendbox/events"
	"sendbox/store"
)

// HTTPRequest is an http step: a call to the business's own system (a
// catalogue, an order system), whose JSON answer fills variables.
//
// The call is made outside any transaction: the step queues a job with the
// run's token, in the run's transaction, and the run waits; a worker makes
// the call and moves the run on with the answer in a transaction of its
// own, if the run still holds that token. After a crash the call may be
// made again (it carries an Idempotency-Key header naming the run and the
// step); the run moves on once.
type HTTPRequest struct {
	Method string `json:"method"` // GET, POST, PUT, PATCH, DELETE
	URL    string `json:"url"`    // http(s), with {{variables}} (query values are escaped)
	// Headers may use {{secrets.NAME}}: a secret set with
	// PUT /api/v1/secrets/NAME, revealed only in the request.
	Headers map[string]string `json:"headers,omitempty"`
	Body    string            `json:"body,omitempty"`    // with {{variables}}; JSON values are escaped when the body is JSON
	Timeout string            `json:"timeout,omitempty"` // default 10s, at most 30s
	// Map fills variables from the JSON answer: {"price": "data.price"}
	// (dot paths, with numbers for array items: "items.0.sku").
	Map map[string]string `json:"map,omitempty"`
	// StatusVar, if set, keeps the answer's HTTP status.
	StatusVar string `json:"status_var,omitempty"`
	// OnError is where a non-2xx answer or a refused call goes, OnTimeout a
	// call with no answer in time; empty ends the run ("http_error",
	// "http_timeout").
	OnError   string `json:"on_error,omitempty"`
	OnTimeout string `json:"on_timeout,omitempty"`
}

const (
	defaultHTTPTimeout = 10 * time.Second
	maxHTTPTimeout     = 30 * time.Second
	// Outcomes of runs ended by an http step with nowhere to go.
	OutcomeHTTPError   = "http_error"
	OutcomeHTTPTimeout = "http_timeout"
)

var (
	secretNameRE  = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	secretRefRE   = regexp.MustCompile(`\{\{\s*secrets\.([A-Za-z0-9_-]{1,64})\s*\}\}`)
	headerNameRE  = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)
	jsonPathRE    = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+){0,9}$`)
	forbiddenHead = map[string]bool{"host": true, "content-length": true, "transfer-encoding": true, "connection": true}
)

func (h *HTTPRequest) validate(vars map[string]bool) []Problem {
	if h == nil {
		return []Problem{{Field: "http", Code: "required", Message: "an http step needs its request"}}
	}
	var ps []Problem
	bad := func(field, code, msg string) { ps = append(ps, Problem{Field: field, Code: code, Message: msg}) }
	switch strings.ToUpper(h.Method) {
	case "GET", "POST", "PUT", "PATCH", "DELETE":
	default:
		bad("http.method", "invalid", "the method is GET, POST, PUT, PATCH or DELETE")
	}
	u, err := url.Parse(tmplRE.ReplaceAllString(h.URL, "x"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("http.url", "invalid", "the URL is http:// or https:// with a host")
	}
	if secretRefRE.MatchString(h.URL) || secretRefRE.MatchString(h.Body) {
		bad("http.url", "secret_outside_header", "secrets go in headers only, where they are never logged or shown")
	}
	for _, text := range []string{h.URL, h.Body} {
		for _, msg := range unknownVars(text, vars) {
			bad("http", "unknown_variable", msg)
		}
	}
	for k, v := range h.Headers {
		if !headerNameRE.MatchString(k) || forbiddenHead[strings.ToLower(k)] {
			bad("http.headers", "invalid_header", fmt.Sprintf("%q cannot be set", k))
		}
		for _, msg := range unknownVars(secretRefRE.ReplaceAllString(v, ""), vars) {
			bad("http.headers", "unknown_variable", msg)
		}
	}
	if h.Timeout != "" {
		if d, err := ParseDuration(h.Timeout); err != nil || d <= 0 || d > maxHTTPTimeout {
			bad("http.timeout", "invalid", "the timeout is a duration up to 30s")
		}
	}
	for v, path := range h.Map {
		if !varRE.MatchString(v) {
			bad("http.map", "invalid_var", fmt.Sprintf("%q: a variable name is lowercase letters, digits and _", v))
		}
		if !jsonPathRE.MatchString(path) {
			bad("http.map", "invalid_path", fmt.Sprintf("%q: a path is field names and item numbers joined by dots (data.items.0.sku)", path))
		}
	}
	if h.StatusVar != "" && !varRE.MatchString(h.StatusVar) {
		bad("http.status_var", "invalid_var", "a variable name is lowercase letters, digits and _")
	}
	return ps
}

// queueHTTP makes the run wait for its http step's call.
func (e *Engine) queueHTTP(x *store.RunTx, r *store.FlowRun, s *Step) error {
	return e.queueJob(x, r, events.SubjectFlowHTTP, "http", runJob{Step: s.ID})
}

// httpResult is what a call gave.
type httpResult struct {
	status  int
	vars    map[string]string
	timeout bool
	err     error
}

// StartHTTPWorker consumes the http steps' jobs until ctx ends.
func (e *Engine) StartHTTPWorker(ctx context.Context, br *embed.Broker, workers int) error {
	if workers <= 0 {
		workers = 4
	}
	return e.startJobs(ctx, br, jobWorker{durable: "flow-http", subject: events.SubjectFlowHTTP, what: "flow http step",
		ackWait: maxHTTPTimeout + time.Minute, workers: workers, run: e.runHTTP})
}

// runHTTP makes the call of a job whose run still waits for it, then moves
// the run on with the answer.
func (e *Engine) runHTTP(ctx context.Context, j runJob) error {
	r, err := e.jobRun(ctx, j)
	if r == nil || err != nil {
		return err
	}
	d, err := e.definition(ctx, r)
	if err != nil {
		return err
	}
	i := d.index(j.Step)
	if i < 0 || d.Steps[i].HTTP == nil {
		return nil
	}
	s := &d.Steps[i]
	c, err := e.Store.ContactWithTags(ctx, r.ContactID)
	if err != nil {
		return err
	}
	env := e.envOf(c, r, time.Now())
	res := e.call(ctx, s.HTTP, env, fmt.Sprintf("sendbox-run-%d-%s-%d", r.ID, s.ID, j.Token))
	return e.move(ctx, j.RunID, func(x *store.RunTx, r *store.FlowRun, d *Definition) error {
		if r.State != store.RunActive || r.Token != j.Token || r.Waiting != store.WaitJob {
			return nil
		}
		for k, v := range res.vars {
			r.Vars[k] = v
		}
		if s.HTTP.StatusVar != "" && res.status != 0 {
			r.Vars[s.HTTP.StatusVar] = strconv.Itoa(res.status)
		}
		var next int
		switch {
		case res.timeout:
			next = d.target(i, branch{field: "on_timeout", to: s.HTTP.OnTimeout})
			if next < 0 {
				return x.End(OutcomeHTTPTimeout)
			}
		case res.err != nil || res.status < 200 || res.status > 299:
			e.log().Info("flow http step failed", slog.Int64("run", r.ID), slog.String("step", s.ID), slog.Int("status", res.status),
				slog.Any("err", res.err))
			next = d.target(i, branch{field: "on_error", to: s.HTTP.OnError})
			if next < 0 {
				return x.End(OutcomeHTTPError)
			}
		default:
			next = d.target(i, branch{field: "next", to: s.Next})
		}
		if err := e.goTo(x, r, d, next); err != nil {
			return err
		}
		return e.advance(ctx, x, r, d, nil)
	})
}

// call makes the request and reads the answer's JSON into the mapped
// variables. Secrets are revealed into the headers only; nothing of the
// request is logged.
func (e *Engine) call(ctx context.Context, h *HTTPRequest, env *Env, idemKey string) httpResult {
	timeout := defaultHTTPTimeout
	if h.Timeout != "" {
		if d, err := ParseDuration(h.Timeout); err == nil && d > 0 && d <= maxHTTPTimeout {
			timeout = d
		}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	raw := tmplRE.ReplaceAllStringFunc(h.URL, func(m string) string {
		v, _ := env.Lookup(tmplRE.FindStringSubmatch(m)[1])
		return url.QueryEscape(v)
	})
	var body io.Reader
	if h.Body != "" {
		jsonBody := strings.HasPrefix(strings.TrimSpace(h.Body), "{") || strings.HasPrefix(strings.TrimSpace(h.Body), "[")
		text := tmplRE.ReplaceAllStringFunc(h.Body, func(m string) string {
			v, _ := env.Lookup(tmplRE.FindStringSubmatch(m)[1])
			if jsonBody {
				q, _ := json.Marshal(v)
				return string(q[1 : len(q)-1])
			}
			return v
		})
		body = strings.NewReader(text)
	}
	req, err := http.NewRequestWithContext(ctx, strings.ToUpper(h.Method), raw, body)
	if err != nil {
		return httpResult{err: err}
	}
	req.Header.Set("User-Agent", "sendbox-flows")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Idempotency-Key", idemKey)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range h.Headers {
		val := env.Render(secretRefRE.ReplaceAllStringFunc(v, func(m string) string {
			name := secretRefRE.FindStringSubmatch(m)[1]
			if e.Secret == nil {
				return ""
			}
			sv, err := e.Secret(ctx, name)
			if err != nil {
				e.log().Warn("a flow's secret cannot be read", slog.String("secret", name), slog.Any("err", err))
				return ""
			}
			return sv
		}))
		req.Header.Set(k, val)
	}
	client := e.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return httpResult{timeout: true}
		}
		return httpResult{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return httpResult{timeout: true, status: resp.StatusCode}
		}
		return httpResult{status: resp.StatusCode, err: err}
	}
	res := httpResult{status: resp.StatusCode, vars: map[string]string{}}
	if len(h.Map) > 0 && len(bytes.TrimSpace(b)) > 0 {
		var doc any
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if err := dec.Decode(&doc); err == nil {
			for v, path := range h.Map {
				if val, ok := jsonAt(doc, path); ok {
					res.vars[v] = val
				}
			}
		}
	}
	return res
}

// jsonAt reads a dot path in a decoded JSON document, as text.
func jsonAt(doc any, path string) (string, bool) {
	cur := doc
	for _, part := range strings.Split(path, ".") {
		switch v := cur.(type) {
		case map[string]any:
			next, ok := v[part]
			if !ok {
				return "", false
			}
			cur = next
		case []any:
			n, err := strconv.Atoi(part)
			if err != nil || n < 0 || n >= len(v) {
				return "", false
			}
			cur = v[n]
		default:
			return "", false
		}
	}
	switch v := cur.(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case bool:
		return strconv.FormatBool(v), true
	case nil:
		return "", true
	default:
		b, _ := json.Marshal(v)
		return string(b), true
	}
}

package ui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"sendbox/assistant"
	"sendbox/llm"
	"sendbox/policy"
	"sendbox/store"
)

// assistantView is Settings → Assistant: what the assistant runs on now,
// how it behaves, and the models Ollama has.
type assistantView struct {
	Section string
	Me      *store.User
	S       *assistant.Settings

	URL        string
	Online     bool
	Generation bool
	Why        string // why answers are not generated
	Queued     uint64
	Stats      []statView // the last 7 days, by outcome

	ChatModels  []modelOption
	EmbedModels []modelOption
	ModelsErr   string // Ollama could not list its models
	Teams       []store.Team
	Messages    []langMessages
	Tones       []string
	Lengths     []string
	Hours       []string
	Pulls       *pullsView
	Error       string
}

// modelOption is one choice of a model select.
type modelOption struct {
	Name, Label string
	Selected    bool
}

type statView struct {
	Outcome string
	N       int
}

// langMessages are the fixed replies of one language, as form fields.
type langMessages struct {
	Lang   string
	Fields []msgField
}

type msgField struct {
	Key, Value, Default string
}

// messageKeys are the fixed replies in the order the page shows them.
var messageKeys = []string{"greeting", "thanks", "goodbye", "holding", "unsupported", "away", "opt_out", "opt_in"}

func messageGet(m assistant.Messages, key string) string {
	switch key {
	case "holding":
		return m.Holding
	case "unsupported":
		return m.Unsupported
	case "opt_out":
		return m.OptOut
	case "opt_in":
		return m.OptIn
	case "away":
		return m.Away
	case "greeting":
		return m.Greeting
	case "thanks":
		return m.Thanks
	case "goodbye":
		return m.Goodbye
	}
	return ""
}

func messageSet(m *assistant.Messages, key, v string) {
	switch key {
	case "holding":
		m.Holding = v
	case "unsupported":
		m.Unsupported = v
	case "opt_out":
		m.OptOut = v
	case "opt_in":
		m.OptIn = v
	case "away":
		m.Away = v
	case "greeting":
		m.Greeting = v
	case "thanks":
		m.Thanks = v
	case "goodbye":
		m.Goodbye = v
	}
}

// statOutcomes are the outcomes the status box counts, in its order.
var statOutcomes = []string{store.AIAnswered, store.AIQuoted, store.AIGreeted, store.AIHandoff, store.AIEscalated,
	store.AITimeout, store.AIOptedOut, store.AIOptedIn, store.AIAway}

// assistantData gathers the page. s is the settings to show: those in
// force, or what the owner just submitted when it was refused.
func (p *Panel) assistantData(ctx context.Context, me *store.User, s *assistant.Settings) (*assistantView, error) {
	v := &assistantView{Section: "assistant", Me: me, S: s, URL: p.LLM.URL(), Online: p.LLM.Online(),
		Queued: p.Assistant.Queued(), Tones: assistant.Tones, Lengths: assistant.Lengths, Hours: assistant.Hours,
		Pulls: p.pulls("")}
	v.Generation, v.Why = p.Assistant.Generation()
	stats, err := p.Store.AIStats(ctx, time.Now().AddDate(0, 0, -7))
	if err != nil {
		return nil, err
	}
	for _, o := range statOutcomes {
		if stats[o] > 0 {
			v.Stats = append(v.Stats, statView{Outcome: o, N: stats[o]})
		}
	}
	if v.Teams, err = p.Store.ListTeams(ctx); err != nil {
		return nil, err
	}
	var models []llm.Model
	if v.Online {
		mctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		models, err = p.LLM.Models(mctx)
		cancel()
		if err != nil {
			v.ModelsErr = p.llmError(err)
		}
	}
	v.ChatModels = p.modelOptions(models, s.ChatModel, llm.Model.CanChat, v.Online && v.ModelsErr == "")
	v.EmbedModels = p.modelOptions(models, s.EmbedModel, llm.Model.CanEmbed, v.Online && v.ModelsErr == "")
	for _, l := range policy.Langs {
		lm := langMessages{Lang: l}
		for _, k := range messageKeys {
			lm.Fields = append(lm.Fields, msgField{Key: k, Value: messageGet(s.Messages[l], k),
				Default: messageGet(assistant.DefaultMessages[l], k)})
		}
		v.Messages = append(v.Messages, lm)
	}
	return v, nil
}

// modelOptions are the installed models that can do what a select is for,
// with "none" first. The current choice stays selectable when Ollama is
// offline or no longer has it, and says so.
func (p *Panel) modelOptions(models []llm.Model, current string, can func(llm.Model) bool, listed bool) []modelOption {
	out := []modelOption{{Name: "", Label: p.T("assistant.model_none"), Selected: current == ""}}
	found := current == ""
	for _, m := range models {
		if !can(m) {
			continue
		}
		label := m.Name
		var about []string
		for _, x := range []string{m.ParameterSize, m.Quantization} {
			if x != "" {
				about = append(about, x)
			}
		}
		if m.Size > 0 {
			about = append(about, humanBytes(m.Size))
		}
		if len(about) > 0 {
			label += " · " + strings.Join(about, " · ")
		}
		sel := sameModel(m.Name, current)
		found = found || sel
		out = append(out, modelOption{Name: m.Name, Label: label, Selected: sel})
	}
	if !found {
		why := p.T("assistant.model_unreachable")
		if listed {
			why = p.T("assistant.model_missing")
		}
		out = append(out, modelOption{Name: current, Label: current + " · " + why, Selected: true})
	}
	return out
}

// sameModel compares model names as Ollama does: "tiny" is "tiny:latest".
func sameModel(a, b string) bool {
	norm := func(s string) string {
		s = strings.ToLower(strings.TrimSpace(s))
		if s != "" && !strings.Contains(s[strings.LastIndex(s, "/")+1:], ":") {
			s += ":latest"
		}
		return s
	}
	return norm(a) == norm(b)
}

// llmError says in plain words why Ollama could not do something.
func (p *Panel) llmError(err error) string {
	switch {
	case errors.Is(err, llm.ErrOffline):
		return p.T("assistant.offline_detail", p.LLM.URL())
	case errors.Is(err, context.DeadlineExceeded):
		return p.T("assistant.slow", p.LLM.URL())
	}
	return err.Error()
}

func (p *Panel) assistantPage(w http.ResponseWriter, r *http.Request, status int, s *assistant.Settings, errMsg string) {
	if s == nil {
		s = p.Assistant.Settings()
	}
	v, err := p.assistantData(r.Context(), sessionFrom(r).User, s)
	if err != nil {
		p.internal(w, r, err)
		return
	}
	v.Error, v.Pulls.CSRF = errMsg, sessionFrom(r).CSRF
	p.page(w, r, status, "assistant", &view{Title: p.T("settings.assistant"), Nav: "settings", Data: v})
}

func (p *Panel) handleAssistantSettings(w http.ResponseWriter, r *http.Request) {
	p.assistantPage(w, r, http.StatusOK, nil, "")
}

// handleAssistantSave applies the settings form; refused settings are
// shown again as they were written, with the reason.
func (p *Panel) handleAssistantSave(w http.ResponseWriter, r *http.Request) {
	s := p.Assistant.Settings()
	on := func(k string) bool { return r.PostFormValue(k) == "on" }
	s.Enabled, s.Classify, s.ResumeAfterResolve = on("enabled"), on("classify"), on("resume_after_resolve")
	s.ChatModel = strings.TrimSpace(r.PostFormValue("chat_model"))
	s.EmbedModel = strings.TrimSpace(r.PostFormValue("embed_model"))
	s.Tone, s.Length, s.Hours = r.PostFormValue("tone"), r.PostFormValue("length"), r.PostFormValue("hours")
	s.Instructions = strings.TrimSpace(strings.ReplaceAll(r.PostFormValue("instructions"), "\r\n", "\n"))
	s.TeamID, _ = strconv.ParseInt(r.PostFormValue("team"), 10, 64)
	for _, l := range policy.Langs {
		m := s.Messages[l]
		for _, k := range messageKeys {
			if v, ok := r.PostForm["msg."+l+"."+k]; ok {
				messageSet(&m, k, strings.TrimSpace(strings.ReplaceAll(v[0], "\r\n", "\n")))
			}
		}
		s.Messages[l] = m
	}
	var bad *assistant.SettingsError
	if err := p.Assistant.SaveSettings(r.Context(), s); errors.As(err, &bad) {
		p.assistantPage(w, r, http.StatusUnprocessableEntity, s, sentence(bad.Msg))
		return
	} else if err != nil {
		p.internal(w, r, err)
		return
	}
	http.Redirect(w, r, "/settings/assistant?ok=saved", http.StatusSeeOther)
}

// sentence makes a lower-case error message read as a sentence.
func sentence(s string) string {
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// pullsView is the "Pull a model" progress: polled every second while a
// pull runs.
type pullsView struct {
	Items   []pullView
	Running bool
	Error   string
	CSRF    string
}

type pullView struct {
	llm.PullState
	Percent int
	Failed  string // why it failed, in plain words
}

func (p *Panel) pulls(errMsg string) *pullsView {
	v := &pullsView{Error: errMsg}
	for _, st := range p.LLM.Pulls() {
		pv := pullView{PullState: st}
		if st.Total > 0 {
			pv.Percent = int(st.Completed * 100 / st.Total)
		}
		if st.Done && st.Err == "" {
			pv.Percent = 100
		}
		if st.Done && st.Err != "" {
			pv.Failed = st.Err
			if strings.Contains(st.Err, llm.ErrOffline.Error()) {
				pv.Failed = p.T("assistant.offline_detail", p.LLM.URL())
			} else if st.Err == "cancelled" {
				pv.Failed = p.T("pull.cancelled")
			}
		}
		v.Running = v.Running || !st.Done
		v.Items = append(v.Items, pv)
	}
	return v
}

func (p *Panel) pullsFragment(w http.ResponseWriter, r *http.Request, status int, errMsg string) {
	v := p.pulls(errMsg)
	v.CSRF = sessionFrom(r).CSRF
	if r.Header.Get("HX-Request") != "true" {
		if errMsg != "" {
			p.assistantPage(w, r, status, nil, errMsg)
			return
		}
		http.Redirect(w, r, "/settings/assistant?ok=pull#pull", http.StatusSeeOther)
		return
	}
	p.exec(w, r, http.StatusOK, "assistant", "pulls", v)
}

// handlePull starts downloading a model into Ollama.
func (p *Panel) handlePull(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSpace(r.PostFormValue("model"))
	if name == "" {
		p.pullsFragment(w, r, http.StatusUnprocessableEntity, p.T("pull.name_needed"))
		return
	}
	if err := p.LLM.StartPull(name); err != nil {
		msg := err.Error()
		var re *llm.RegistryError
		switch {
		case errors.Is(err, llm.ErrBadModelName):
			msg = p.T("pull.bad_name", name)
		case errors.As(err, &re):
			msg = p.T("pull.registry", name, re.Host)
		case errors.Is(err, llm.ErrPullRunning):
			msg = p.T("pull.running", name)
		}
		p.pullsFragment(w, r, http.StatusUnprocessableEntity, msg)
		return
	}
	p.pullsFragment(w, r, http.StatusOK, "")
}

// handlePulls renders the progress of the pulls (polled).
func (p *Panel) handlePulls(w http.ResponseWriter, r *http.Request) {
	v := p.pulls("")
	v.CSRF = sessionFrom(r).CSRF
	p.fragment(w, r, "assistant", "pulls", v)
}

// handlePullCancel stops a pull; Ollama keeps what it downloaded.
func (p *Panel) handlePullCancel(w http.ResponseWriter, r *http.Request) {
	p.LLM.CancelPull(r.PostFormValue("model"))
	// The pull notices at its next read; give it a moment so the answer
	// shows it stopped.
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		running := false
		for _, st := range p.LLM.Pulls() {
			running = running || (!st.Done && sameModel(st.Model, r.PostFormValue("model")))
		}
		if !running {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.pullsFragment(w, r, http.StatusOK, "")
}

// percent is n of total as a whole percentage.
func percent(n, total int) string {
	if total == 0 {
		return "0%"
	}
	return fmt.Sprintf("%d%%", n*100/total)
}

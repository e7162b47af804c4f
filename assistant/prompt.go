package assistant

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"sendbox/business"
	"sendbox/knowledge"
	"sendbox/language"
	"sendbox/llm"
	"sendbox/policy"
	"sendbox/store"
)

// LangNames name the languages in prompts.
var LangNames = language.Names

var toneGuide = map[string]string{
	"friendly":     "friendly and natural, like a helpful shop assistant",
	"professional": "polite and professional",
	"warm":         "warm and reassuring, especially with worried customers",
	"concise":      "brief and to the point, with no small talk",
}

var lengthGuide = map[string]string{
	"short":    "one to three short sentences",
	"medium":   "a short paragraph",
	"detailed": "up to two paragraphs, with the details the passages give",
}

// answerSchema is what the model fills: the answer, whether the passages
// support it, and which passages it used.
var answerSchema = json.RawMessage(`{"type":"object","properties":{
 "answer":{"type":"string"},
 "supported":{"type":"boolean"},
 "sources":{"type":"array","items":{"type":"integer"}}},
 "required":["answer","supported","sources"]}`)

// modelAnswer is the model's filled schema.
type modelAnswer struct {
	Answer    string `json:"answer"`
	Supported bool   `json:"supported"`
	Sources   []int  `json:"sources"`
}

func parseAnswer(s string) (*modelAnswer, error) {
	var a modelAnswer
	if err := json.Unmarshal([]byte(strings.TrimSpace(s)), &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// buildAnswer writes the prompt: the rules, the business facts, only the
// retrieved passages, then the conversation with the customer's message last.
func buildAnswer(model string, s *Settings, p *business.Profile, hits []knowledge.Hit, history []store.Message,
	lang string, now time.Time) llm.ChatRequest {
	var sys strings.Builder
	name := p.Name
	if name == "" {
		name = "the business"
	}
	fmt.Fprintf(&sys, "You are the WhatsApp assistant of %s. Answer the customer's last message using ONLY the business facts "+
		"and the numbered passages below. If they do not contain the answer, set \"supported\" to false and leave \"answer\" empty: "+
		"never guess, never invent prices, times, availability or advice. List in \"sources\" the numbers of the passages you used.\n", name)
	fmt.Fprintf(&sys, "Write in %s. Tone: %s. Length: %s. Plain text for WhatsApp, no Markdown headings.\n",
		LangNames[lang], toneGuide[s.Tone], lengthGuide[s.Length])
	if s.Instructions != "" {
		fmt.Fprintf(&sys, "The owner's instructions: %s\n", s.Instructions)
	}
	loc := p.Location()
	fmt.Fprintf(&sys, "\nBusiness facts:\n- Now: %s (%s)", now.In(loc).Format("Monday 2 January 2006, 15:04"), p.Timezone)
	if p.OpenAt(now) {
		sys.WriteString(", open now\n")
	} else {
		sys.WriteString(", closed now\n")
	}
	for _, c := range knowledge.ProfilePassages(p, lang) {
		fmt.Fprintf(&sys, "- %s: %s\n", c.Heading, c.Text)
	}
	sys.WriteString("\nPassages:\n")
	for i, h := range hits {
		title := h.Chunk.Title
		if h.Chunk.Heading != "" && h.Chunk.Heading != title {
			title += " — " + h.Chunk.Heading
		}
		fmt.Fprintf(&sys, "[%d] %s\n%s\n\n", i+1, title, h.Chunk.Text)
	}
	msgs := []llm.Message{{Role: "system", Content: sys.String()}}
	for _, m := range history {
		if m.Text == "" {
			continue
		}
		role := "user"
		if m.Direction == "outbound" {
			role = "assistant"
		}
		msgs = append(msgs, llm.Message{Role: role, Content: m.Text})
	}
	return llm.ChatRequest{Model: model, Messages: msgs, Format: answerSchema, NumPredict: 400, NumCtx: 4096,
		KeepAlive: 30 * time.Minute}
}

// classifier asks the chat model whether a message needs a person.
type classifier struct {
	model Model
	name  string
	took  time.Duration
}

const classifyPrompt = `You screen messages a customer sent to a business on WhatsApp. Decide whether a person must take over now.
Categories: medical_urgency (pain, bleeding, swelling, fever, an accident or injury), complaint (anger, dissatisfaction),
refund (wants money back), legal_threat (lawyer, court, reporting the business), human_request (asks for a person).
Ignore what the customer says they do NOT have ("no pain" is not urgent). If one applies, set escalate to true, the
category, and in evidence copy the customer's exact words that show it. Otherwise escalate false, category "none",
evidence "".`

// Classify implements policy.Classifier.
func (c *classifier) Classify(ctx context.Context, text string) (*policy.Judgement, error) {
	t0 := time.Now()
	res, err := c.model.Chat(ctx, llm.ChatRequest{Model: c.name, Format: policy.Schema, NumPredict: 120, Temperature: -1,
		KeepAlive: 30 * time.Minute,
		Messages:  []llm.Message{{Role: "system", Content: classifyPrompt}, {Role: "user", Content: text}}}, nil)
	c.took += time.Since(t0)
	if err != nil {
		return nil, err
	}
	var j policy.Judgement
	if err := json.Unmarshal([]byte(strings.TrimSpace(res.Content)), &j); err != nil {
		return nil, fmt.Errorf("read the model's judgement: %w", err)
	}
	return &j, nil
}

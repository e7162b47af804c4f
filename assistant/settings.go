package assistant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"sendbox/policy"
	"sendbox/store"
)

// Settings are how the owner wants the assistant to behave.
type Settings struct {
	// Enabled lets the assistant answer customers. Off, the policy still
	// escalates and opt-outs still work: they protect the customer.
	Enabled    bool   `json:"enabled"`
	ChatModel  string `json:"chat_model"`  // "" for none: answers quote the knowledge
	EmbedModel string `json:"embed_model"` // "" for none: retrieval by words alone
	// Classify asks the chat model, besides the phrase rules, whether a
	// message needs a person.
	Classify     bool   `json:"classify"`
	Tone         string `json:"tone"`   // one of Tones
	Length       string `json:"length"` // one of Lengths
	Instructions string `json:"instructions"`
	// Hours is when the assistant answers: always, only while the business
	// is closed, or always but with the away message while closed.
	Hours string `json:"hours"`
	// ResumeAfterResolve lets the assistant answer again in the customer's
	// next conversation after a person took over and resolved this one.
	ResumeAfterResolve bool  `json:"resume_after_resolve"`
	TeamID             int64 `json:"team_id"` // escalations and handoffs go to this team (0: none)
	// Messages are what the assistant says, by language (it, fr, en, es, de).
	Messages map[string]Messages `json:"messages"`
}

// Messages are the fixed replies of the assistant in one language.
type Messages struct {
	Holding     string `json:"holding"`     // a person takes over (escalation, timeout)
	Unsupported string `json:"unsupported"` // the knowledge has no answer: a person will reply
	OptOut      string `json:"opt_out"`     // marketing consent revoked
	OptIn       string `json:"opt_in"`      // marketing consent given again ("START")
	Away        string `json:"away"`        // outside business hours
	Greeting    string `json:"greeting"`    // the customer only said hello
	Thanks      string `json:"thanks"`      // the customer only said thank you
	Goodbye     string `json:"goodbye"`     // the customer took leave ("grazie mille, a presto")
}

// Choices of the settings page.
var (
	Tones   = []string{"friendly", "professional", "warm", "concise"}
	Lengths = []string{"short", "medium", "detailed"}
	Hours   = []string{HoursAlways, HoursClosedOnly, HoursAway}
)

// Hours choices.
const (
	HoursAlways     = "always"      // the assistant answers at any hour
	HoursClosedOnly = "closed_only" // people answer while the business is open
	HoursAway       = "away"        // while closed, the away message instead of answers
)

// DefaultMessages are the fixed replies in the five languages.
var DefaultMessages = map[string]Messages{
	"en": {
		Holding:     "Thank you for your message. I have passed it to a member of our team, who will reply here as soon as possible.",
		Unsupported: "I'm not sure about that, and I'd rather not guess. I have asked a colleague, who will reply here shortly.",
		OptOut:      "Done: you will not receive promotional messages from us any more. You can still write to us here whenever you like.",
		OptIn:       "Done: you will receive our promotional messages again. Write STOP whenever you want them to end.",
		Away:        "Thank you for your message. We are closed right now; we will reply as soon as we open.",
		Greeting:    "Hello! I am the virtual assistant. How can I help you?",
		Thanks:      "You are welcome! Write to us here whenever you need.",
		Goodbye:     "Thank you, see you soon! Write to us here whenever you need.",
	},
	"it": {
		Holding:     "Grazie per il messaggio. L'ho passato a una persona del nostro team, che le risponderà qui il prima possibile.",
		Unsupported: "Non ne sono sicuro e preferisco non tirare a indovinare. Ho chiesto a un collega, che le risponderà qui a breve.",
		OptOut:      "Fatto: non riceverà più messaggi promozionali da noi. Può comunque scriverci qui quando vuole.",
		OptIn:       "Fatto: riceverà di nuovo i nostri messaggi promozionali. Scriva STOP quando vuole che smettano.",
		Away:        "Grazie per il messaggio. In questo momento siamo chiusi; le risponderemo appena apriamo.",
		Greeting:    "Buongiorno! Sono l'assistente virtuale. Come posso aiutarla?",
		Thanks:      "Prego! Ci scriva qui quando vuole.",
		Goodbye:     "Grazie a lei, a presto! Ci scriva qui quando vuole.",
	},
	"fr": {
		Holding:     "Merci pour votre message. Je l'ai transmis à un membre de notre équipe, qui vous répondra ici dès que possible.",
		Unsupported: "Je n'en suis pas sûr et je préfère ne pas deviner. J'ai demandé à un collègue, qui vous répondra ici rapidement.",
		OptOut:      "C'est fait : vous ne recevrez plus de messages promotionnels de notre part. Vous pouvez toujours nous écrire ici.",
		OptIn:       "C'est fait : vous recevrez de nouveau nos messages promotionnels. Écrivez STOP quand vous voulez qu'ils cessent.",
		Away:        "Merci pour votre message. Nous sommes fermés pour le moment ; nous vous répondrons dès l'ouverture.",
		Greeting:    "Bonjour ! Je suis l'assistant virtuel. Comment puis-je vous aider ?",
		Thanks:      "Avec plaisir ! Écrivez-nous ici quand vous voulez.",
		Goodbye:     "Merci à vous, à bientôt ! Écrivez-nous ici quand vous voulez.",
	},
	"es": {
		Holding:     "Gracias por su mensaje. Se lo he pasado a una persona de nuestro equipo, que le responderá aquí lo antes posible.",
		Unsupported: "No estoy seguro y prefiero no adivinar. He pedido ayuda a un compañero, que le responderá aquí en breve.",
		OptOut:      "Hecho: ya no recibirá mensajes promocionales nuestros. Puede seguir escribiéndonos aquí cuando quiera.",
		OptIn:       "Hecho: volverá a recibir nuestros mensajes promocionales. Escriba STOP cuando quiera que dejen de llegar.",
		Away:        "Gracias por su mensaje. Ahora mismo estamos cerrados; le responderemos en cuanto abramos.",
		Greeting:    "¡Hola! Soy el asistente virtual. ¿En qué puedo ayudarle?",
		Thanks:      "¡De nada! Escríbanos aquí cuando lo necesite.",
		Goodbye:     "¡Gracias a usted, hasta pronto! Escríbanos aquí cuando lo necesite.",
	},
	"de": {
		Holding:     "Danke für Ihre Nachricht. Ich habe sie an eine Kollegin oder einen Kollegen weitergegeben, die Ihnen hier so bald wie möglich antworten.",
		Unsupported: "Da bin ich nicht sicher, und ich möchte nicht raten. Ich habe eine Kollegin oder einen Kollegen gebeten, Ihnen hier in Kürze zu antworten.",
		OptOut:      "Erledigt: Sie erhalten keine Werbenachrichten mehr von uns. Sie können uns hier trotzdem jederzeit schreiben.",
		OptIn:       "Erledigt: Sie erhalten wieder unsere Werbenachrichten. Schreiben Sie STOP, wenn Sie keine mehr möchten.",
		Away:        "Danke für Ihre Nachricht. Wir haben gerade geschlossen und antworten Ihnen, sobald wir wieder öffnen.",
		Greeting:    "Hallo! Ich bin der virtuelle Assistent. Wie kann ich Ihnen helfen?",
		Thanks:      "Gern geschehen! Schreiben Sie uns hier, wann immer Sie möchten.",
		Goodbye:     "Danke Ihnen, bis bald! Schreiben Sie uns hier, wann immer Sie möchten.",
	},
}

// DefaultSettings are a new install's: on, friendly and short, answering
// at any hour, quoting the knowledge until a model is chosen.
func DefaultSettings() *Settings {
	s := &Settings{Enabled: true, Classify: true, Tone: "friendly", Length: "short", Hours: HoursAlways,
		ResumeAfterResolve: true, Messages: map[string]Messages{}}
	for l, m := range DefaultMessages {
		s.Messages[l] = m
	}
	return s
}

// Message returns a fixed reply in lang, falling back to the owner's
// English, then to the default.
func (s *Settings) Message(lang string, pick func(Messages) string) string {
	for _, m := range []Messages{s.Messages[lang], DefaultMessages[lang], s.Messages["en"], DefaultMessages["en"]} {
		if v := strings.TrimSpace(pick(m)); v != "" {
			return v
		}
	}
	return ""
}

// SettingsError is a setting the owner must fix, in plain words.
type SettingsError struct{ Msg string }

func (e *SettingsError) Error() string { return e.Msg }

// Validate checks the settings, naming the first problem in plain words.
func (s *Settings) Validate() error {
	if !contains(Tones, s.Tone) {
		return fmt.Errorf("Choose a tone of voice: %s", strings.Join(Tones, ", "))
	}
	if !contains(Lengths, s.Length) {
		return fmt.Errorf("Choose a length of answers: %s", strings.Join(Lengths, ", "))
	}
	if !contains(Hours, s.Hours) {
		return fmt.Errorf("Choose when the assistant answers: %s", strings.Join(Hours, ", "))
	}
	if utf8.RuneCountInString(s.Instructions) > 2000 {
		return errors.New("The instructions are longer than 2,000 characters.")
	}
	for _, m := range []string{s.ChatModel, s.EmbedModel} {
		if len(m) > 200 || strings.ContainsAny(m, " \t\n") {
			return fmt.Errorf("%q is not a model name.", m)
		}
	}
	for lang, m := range s.Messages {
		if !contains(policy.Langs, lang) {
			return fmt.Errorf("Messages for %q: the languages are %s", lang, strings.Join(policy.Langs, ", "))
		}
		for _, v := range []string{m.Holding, m.Unsupported, m.OptOut, m.OptIn, m.Away, m.Greeting, m.Thanks, m.Goodbye} {
			if utf8.RuneCountInString(v) > 1000 {
				return errors.New("A fixed reply is longer than 1,000 characters.")
			}
		}
	}
	return nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

const (
	settingsKey = "assistant"
	rulesKey    = "policy_rules"
)

// LoadSettings returns the stored settings, or the defaults.
func LoadSettings(ctx context.Context, st *store.Store) (*Settings, error) {
	s := DefaultSettings()
	v, err := st.Setting(ctx, settingsKey)
	if errors.Is(err, store.ErrNotFound) {
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(v), s); err != nil {
		return nil, fmt.Errorf("stored assistant settings: %w", err)
	}
	if s.Messages == nil {
		s.Messages = map[string]Messages{}
	}
	return s, nil
}

// LoadRules returns the owner's policy rules, or the defaults. Rules
// stored by an earlier version get the lists added since (policy.Rules.Upgrade).
func LoadRules(ctx context.Context, st *store.Store) (*policy.Rules, error) {
	v, err := st.Setting(ctx, rulesKey)
	if errors.Is(err, store.ErrNotFound) {
		return policy.Default(), nil
	}
	if err != nil {
		return nil, err
	}
	var r policy.Rules
	if err := json.Unmarshal([]byte(v), &r); err != nil {
		return nil, fmt.Errorf("stored policy rules: %w", err)
	}
	r.Upgrade()
	return &r, nil
}

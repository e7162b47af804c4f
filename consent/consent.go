// Package consent captures a customer's marketing consent with its proof:
// the opt-in wording the owner writes (versioned, per language), the wa.me
// link and its QR code whose prefilled text is an opt-in keyword, the
// hosted opt-in form, and the double opt-in confirmation button. What is
// captured goes to the store's consent ledger.
package consent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"sendbox/store"
)

// Langs are the languages the wording is written in.
var Langs = []string{"en", "it", "fr", "es", "de"}

// Wording is what a customer of one language is shown when asked for
// their consent: on the form's checkbox and in the double opt-in message.
type Wording struct {
	// Version grows by one each time Text or Button changes: the ledger
	// records the words and their version.
	Version int    `json:"version"`
	Text    string `json:"text"`    // the consent sentence
	Button  string `json:"button"`  // the double opt-in button's title (Meta allows 20 characters)
	Keyword string `json:"keyword"` // the wa.me link's prefilled text: an opt-in word
}

// VersionName is a wording's version as the ledger records it ("it-2").
func (w Wording) VersionName(lang string) string { return lang + "-" + strconv.Itoa(w.Version) }

// Settings is how consent is captured.
type Settings struct {
	// Number is the business's WhatsApp number (digits), for the wa.me link.
	Number string `json:"number"`
	// DoubleOptIn: an opt-in by keyword or form is confirmed by a tap on a
	// button sendbox sends, before it counts.
	DoubleOptIn bool               `json:"double_opt_in"`
	Wordings    map[string]Wording `json:"wordings"`
}

// settingKey is where the settings are kept.
const settingKey = "consent.capture"

// DefaultWordings are the wordings a new sendbox starts with.
var DefaultWordings = map[string]Wording{
	"en": {Version: 1, Text: "Yes, I want to receive offers and news on WhatsApp. I can stop at any time by writing STOP.",
		Button: "Yes, send me offers", Keyword: "SUBSCRIBE"},
	"it": {Version: 1, Text: "Sì, voglio ricevere offerte e novità su WhatsApp. Posso smettere in qualsiasi momento scrivendo STOP.",
		Button: "Sì, voglio offerte", Keyword: "ISCRIVIMI"},
	"fr": {Version: 1, Text: "Oui, je veux recevoir des offres et des nouveautés sur WhatsApp. Je peux arrêter à tout moment en écrivant STOP.",
		Button: "Oui, envoyez-moi", Keyword: "INSCRIPTION"},
	"es": {Version: 1, Text: "Sí, quiero recibir ofertas y novedades por WhatsApp. Puedo darme de baja en cualquier momento escribiendo STOP.",
		Button: "Sí, enviadme ofertas", Keyword: "SUSCRIBIRME"},
	"de": {Version: 1, Text: "Ja, ich möchte Angebote und Neuigkeiten per WhatsApp erhalten. Ich kann jederzeit mit STOP abbestellen.",
		Button: "Ja, Angebote senden", Keyword: "ANMELDEN"},
}

// Load reads the settings, with the default wording for a language the
// owner has not written.
func Load(ctx context.Context, st *store.Store) (*Settings, error) {
	s := &Settings{Wordings: map[string]Wording{}}
	v, err := st.Setting(ctx, settingKey)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if v != "" {
		if err := json.Unmarshal([]byte(v), s); err != nil {
			return nil, fmt.Errorf("consent settings: %w", err)
		}
	}
	if s.Wordings == nil {
		s.Wordings = map[string]Wording{}
	}
	for _, l := range Langs {
		if w, ok := s.Wordings[l]; !ok || w.Text == "" {
			s.Wordings[l] = DefaultWordings[l]
		}
	}
	return s, nil
}

// Limits of what the owner writes.
const (
	MaxText    = 500
	MaxButton  = 20
	MaxKeyword = 30
)

// Save checks and stores new settings; a wording whose text or button
// changed gets the next version.
func Save(ctx context.Context, st *store.Store, next *Settings) error {
	old, err := Load(ctx, st)
	if err != nil {
		return err
	}
	next.Number = strings.TrimPrefix(strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '(' || r == ')' || r == '.' {
			return -1
		}
		return r
	}, strings.TrimSpace(next.Number)), "+")
	if next.Number != "" {
		if _, err := strconv.ParseUint(next.Number, 10, 64); err != nil || len(next.Number) < 8 || len(next.Number) > 15 {
			return fmt.Errorf("the business number %q is not a phone number with its country code", next.Number)
		}
	}
	for _, l := range Langs {
		w, ok := next.Wordings[l]
		if !ok {
			w = old.Wordings[l]
		}
		w.Text, w.Button, w.Keyword = strings.TrimSpace(w.Text), strings.TrimSpace(w.Button), strings.TrimSpace(w.Keyword)
		switch {
		case w.Text == "" || utf8.RuneCountInString(w.Text) > MaxText:
			return fmt.Errorf("%s: the wording has 1 to %d characters", l, MaxText)
		case w.Button == "" || utf8.RuneCountInString(w.Button) > MaxButton:
			return fmt.Errorf("%s: the button's title has 1 to %d characters (Meta's limit)", l, MaxButton)
		case fold(w.Keyword) == "" || utf8.RuneCountInString(w.Keyword) > MaxKeyword:
			return fmt.Errorf("%s: the keyword has 1 to %d characters", l, MaxKeyword)
		}
		prev := old.Wordings[l]
		w.Version = prev.Version
		if w.Text != prev.Text || w.Button != prev.Button {
			w.Version = prev.Version + 1
		}
		next.Wordings[l] = w
	}
	b, err := json.Marshal(next)
	if err != nil {
		return err
	}
	return st.SetSetting(ctx, settingKey, string(b))
}

// Wording returns the wording for a language, English for one not written in.
func (s *Settings) Wording(lang string) (string, Wording) {
	if w, ok := s.Wordings[lang]; ok {
		return lang, w
	}
	return "en", s.Wordings["en"]
}

// Link is the wa.me link that opens a chat with the business with the
// language's keyword written, ready to send; "" without a business number.
func (s *Settings) Link(lang string) string {
	if s.Number == "" {
		return ""
	}
	_, w := s.Wording(lang)
	return "https://wa.me/" + s.Number + "?text=" + url.QueryEscape(w.Keyword)
}

// KeywordLang reports whether a message is one of the links' keywords
// (give or take case, accents, punctuation and spaces), and in which
// language.
func (s *Settings) KeywordLang(text string) (string, bool) {
	f := fold(text)
	if f == "" {
		return "", false
	}
	for _, l := range Langs {
		if fold(s.Wordings[l].Keyword) == f {
			return l, true
		}
	}
	return "", false
}

// fold is text compared without case, accents, punctuation or spaces.
func fold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// confirmPrefix starts the id of the double opt-in button: the language
// and the wording's version follow ("consent.confirm:it:2").
const confirmPrefix = "consent.confirm:"

// ConfirmID is the double opt-in button's id for a wording.
func ConfirmID(lang string, w Wording) string {
	return confirmPrefix + lang + ":" + strconv.Itoa(w.Version)
}

// ParseConfirm reads a button reply's id: the double opt-in tap, its
// wording's language and version.
func ParseConfirm(replyID string) (lang string, version int, ok bool) {
	rest, ok := strings.CutPrefix(replyID, confirmPrefix)
	if !ok {
		return "", 0, false
	}
	lang, v, _ := strings.Cut(rest, ":")
	version, err := strconv.Atoi(v)
	return lang, version, err == nil
}

// FormText is the hosted opt-in page's own words, in the customer's language.
type FormText struct {
	Title, Phone, PhoneHint, Name, Submit, Thanks, ThanksConfirm, BadPhone, NotAgreed, TooMany string
}

// FormWords are the page's words by language.
var FormWords = map[string]FormText{
	"en": {Title: "Receive our offers on WhatsApp", Phone: "Mobile number", PhoneHint: "With the country code, e.g. +44 7700 900123",
		Name: "Name", Submit: "Sign me up", Thanks: "Thank you: you are signed up.",
		ThanksConfirm: "Thank you: confirm on WhatsApp with the button we have just sent you.",
		BadPhone:      "This is not a mobile number with its country code.", NotAgreed: "Tick the box to agree.",
		TooMany: "Too many attempts from this connection: try again in a few minutes."},
	"it": {Title: "Ricevi le nostre offerte su WhatsApp", Phone: "Numero di cellulare", PhoneHint: "Con il prefisso internazionale, es. +39 347 123 4567",
		Name: "Nome", Submit: "Iscrivimi", Thanks: "Grazie: sei iscritto.",
		ThanksConfirm: "Grazie: conferma su WhatsApp con il pulsante che ti abbiamo appena inviato.",
		BadPhone:      "Questo non è un numero di cellulare con il prefisso internazionale.", NotAgreed: "Spunta la casella per acconsentire.",
		TooMany: "Troppi tentativi da questa connessione: riprova tra qualche minuto."},
	"fr": {Title: "Recevez nos offres sur WhatsApp", Phone: "Numéro de mobile", PhoneHint: "Avec l'indicatif du pays, p. ex. +33 6 12 34 56 78",
		Name: "Nom", Submit: "M'inscrire", Thanks: "Merci : vous êtes inscrit.",
		ThanksConfirm: "Merci : confirmez sur WhatsApp avec le bouton que nous venons de vous envoyer.",
		BadPhone:      "Ce n'est pas un numéro de mobile avec l'indicatif du pays.", NotAgreed: "Cochez la case pour accepter.",
		TooMany: "Trop de tentatives depuis cette connexion : réessayez dans quelques minutes."},
	"es": {Title: "Recibe nuestras ofertas por WhatsApp", Phone: "Número de móvil", PhoneHint: "Con el prefijo del país, p. ej. +34 612 345 678",
		Name: "Nombre", Submit: "Suscribirme", Thanks: "Gracias: ya estás suscrito.",
		ThanksConfirm: "Gracias: confirma en WhatsApp con el botón que te acabamos de enviar.",
		BadPhone:      "No es un número de móvil con el prefijo del país.", NotAgreed: "Marca la casilla para aceptar.",
		TooMany: "Demasiados intentos desde esta conexión: inténtalo de nuevo en unos minutos."},
	"de": {Title: "Unsere Angebote per WhatsApp erhalten", Phone: "Handynummer", PhoneHint: "Mit Ländervorwahl, z. B. +49 151 23456789",
		Name: "Name", Submit: "Anmelden", Thanks: "Danke: Sie sind angemeldet.",
		ThanksConfirm: "Danke: Bitte bestätigen Sie in WhatsApp mit der Schaltfläche, die wir Ihnen gerade geschickt haben.",
		BadPhone:      "Das ist keine Handynummer mit Ländervorwahl.", NotAgreed: "Bitte setzen Sie das Häkchen, um zuzustimmen.",
		TooMany: "Zu viele Versuche von dieser Verbindung: Bitte versuchen Sie es in ein paar Minuten erneut."},
}

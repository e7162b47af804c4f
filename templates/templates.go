// Package templates is the catalogue of the message templates sendbox's
// ready-made flows send (order confirmation, shipping update, usage tips,
// reorder reminder, cross-sell, quote, return, appointment reminder), in
// English, Italian and French. It is one source for two readers: the
// sandbox's simulator approves exactly these, so the flows run end to end
// there, and on a real account the flow editor shows the wording of those
// Meta has not approved yet, to submit in WhatsApp Manager.
package templates

import (
	"regexp"
	"strings"
)

// Template is a template's wording as submitted to Meta.
type Template struct {
	Name     string   `json:"name"`
	Language string   `json:"language"` // Meta's code: "en" and "en_US" are different translations
	Category string   `json:"category"` // UTILITY or MARKETING
	Header   string   `json:"header,omitempty"`
	Body     string   `json:"body"` // with {{1}}, {{2}}… in order
	Footer   string   `json:"footer,omitempty"`
	Buttons  []Button `json:"buttons,omitempty"`
	// Example is a sample value for each body parameter, in order: Meta
	// asks for one with each submission.
	Example []string `json:"example"`
}

// Button is a template button.
type Button struct {
	Type string `json:"type"` // QUICK_REPLY, URL or PHONE_NUMBER
	Text string `json:"text"`
	URL  string `json:"url,omitempty"`
}

// ManagerURL is where a business submits templates for Meta's review:
// WhatsApp Manager, under Message templates.
const ManagerURL = "https://business.facebook.com/wa/manage/message-templates/"

var placeholder = regexp.MustCompile(`\{\{\s*(\d+)\s*\}\}`)

// Sample is the body with the example values in place of its parameters,
// as the customer would read it.
func (t Template) Sample() string {
	return placeholder.ReplaceAllStringFunc(t.Body, func(m string) string {
		n := 0
		for _, c := range placeholder.FindStringSubmatch(m)[1] {
			n = n*10 + int(c-'0')
		}
		if n >= 1 && n <= len(t.Example) {
			return t.Example[n-1]
		}
		return m
	})
}

// Catalogue returns every template of the catalogue (a copy).
func Catalogue() []Template {
	out := make([]Template, len(catalogue))
	for i, t := range catalogue {
		t.Buttons = append([]Button(nil), t.Buttons...)
		t.Example = append([]string(nil), t.Example...)
		out[i] = t
	}
	return out
}

// Find returns the catalogue's wording of a template in a language: the
// exact code, else a regional variant of the same language ("en_US" finds
// "en"). ok is false when the catalogue does not have it in that language.
func Find(name, language string) (t Template, ok bool) {
	base := func(l string) string { b, _, _ := strings.Cut(strings.ToLower(l), "_"); return b }
	for _, exact := range []bool{true, false} {
		for _, c := range Catalogue() {
			if c.Name == name && (c.Language == language || !exact && base(c.Language) == base(language)) {
				if !exact {
					c.Language = language
				}
				return c, true
			}
		}
	}
	return Template{}, false
}

const (
	utility   = "UTILITY"
	marketing = "MARKETING"
)

func quick(texts ...string) []Button {
	out := make([]Button, len(texts))
	for i, t := range texts {
		out[i] = Button{Type: "QUICK_REPLY", Text: t}
	}
	return out
}

var catalogue = []Template{
	{Name: "appointment_reminder", Language: "en", Category: utility,
		Body:    "Hi! This is a reminder of your appointment on {{1}} at {{2}}. Please let us know if you can make it.",
		Buttons: quick("Confirm", "Cancel"), Example: []string{"Tuesday 12 March", "10:30"}},
	{Name: "appointment_reminder", Language: "it", Category: utility,
		Body:    "Ciao! Ti ricordiamo l'appuntamento del {{1}} alle {{2}}. Facci sapere se ci sarai.",
		Buttons: quick("Confermo", "Disdico"), Example: []string{"martedì 12 marzo", "10:30"}},
	{Name: "appointment_reminder", Language: "fr", Category: utility,
		Body:    "Bonjour ! Nous vous rappelons votre rendez-vous du {{1}} à {{2}}. Dites-nous si vous serez présent.",
		Buttons: quick("Je confirme", "J'annule"), Example: []string{"mardi 12 mars", "10h30"}},

	{Name: "order_confirmation", Language: "en", Category: utility,
		Body:    "Thank you for your order {{1}}! We are preparing it and will tell you as soon as it ships.",
		Example: []string{"#1042"}},
	{Name: "order_confirmation", Language: "it", Category: utility,
		Body:    "Grazie per l'ordine {{1}}! Lo stiamo preparando e ti avviseremo appena parte.",
		Example: []string{"#1042"}},
	{Name: "order_confirmation", Language: "fr", Category: utility,
		Body:    "Merci pour votre commande {{1}} ! Nous la préparons et vous prévenons dès son expédition.",
		Example: []string{"#1042"}},

	{Name: "shipping_update", Language: "en", Category: utility,
		Body:    "Your order {{1}} is on its way with {{2}}. Track it at {{3}} to see when it arrives.",
		Example: []string{"#1042", "DHL", "https://track.example.com/1042"}},
	{Name: "shipping_update", Language: "it", Category: utility,
		Body:    "Il tuo ordine {{1}} è in viaggio con {{2}}. Seguilo su {{3}} per sapere quando arriva.",
		Example: []string{"#1042", "BRT", "https://track.example.com/1042"}},
	{Name: "shipping_update", Language: "fr", Category: utility,
		Body:    "Votre commande {{1}} est en route avec {{2}}. Suivez-la sur {{3}} pour savoir quand elle arrive.",
		Example: []string{"#1042", "Colissimo", "https://track.example.com/1042"}},

	{Name: "usage_tips", Language: "en", Category: utility,
		Body:    "How are you getting on with {{1}}? A tip for the best results: {{2}}. Reply here if you have any questions.",
		Example: []string{"the vitamin C serum", "apply two drops in the morning, on clean skin"}},
	{Name: "usage_tips", Language: "it", Category: utility,
		Body:    "Come ti trovi con {{1}}? Un consiglio per risultati migliori: {{2}}. Rispondi qui se hai domande.",
		Example: []string{"il siero alla vitamina C", "applica due gocce al mattino, sulla pelle pulita"}},
	{Name: "usage_tips", Language: "fr", Category: utility,
		Body:    "Comment se passe l'utilisation de {{1}} ? Un conseil pour de meilleurs résultats : {{2}}. Répondez ici si vous avez des questions.",
		Example: []string{"le sérum à la vitamine C", "appliquez deux gouttes le matin, sur une peau propre"}},

	{Name: "reorder_reminder", Language: "en", Category: marketing,
		Body:    "Hi {{1}}, your {{2}} may be running low. Reorder it in one tap at {{3}} whenever you are ready.",
		Buttons: quick("Not now"), Example: []string{"Anna", "vitamin C serum", "https://shop.example.com/reorder/1042"}},
	{Name: "reorder_reminder", Language: "it", Category: marketing,
		Body:    "Ciao {{1}}, il tuo {{2}} potrebbe stare per finire. Riordinalo con un tocco su {{3}} quando vuoi.",
		Buttons: quick("Non ora"), Example: []string{"Anna", "siero alla vitamina C", "https://shop.example.com/reorder/1042"}},
	{Name: "reorder_reminder", Language: "fr", Category: marketing,
		Body:    "Bonjour {{1}}, votre {{2}} arrive peut-être à sa fin. Recommandez-le en un clic sur {{3}} quand vous voulez.",
		Buttons: quick("Pas maintenant"), Example: []string{"Anne", "sérum à la vitamine C", "https://shop.example.com/reorder/1042"}},

	{Name: "cross_sell", Language: "en", Category: marketing,
		Body:    "Customers who love {{1}} also like {{2}}. Would you like to know more?",
		Buttons: quick("Yes, tell me", "No, thanks"), Example: []string{"the vitamin C serum", "the hydrating night cream"}},
	{Name: "cross_sell", Language: "it", Category: marketing,
		Body:    "Chi ama {{1}} apprezza anche {{2}}. Vuoi saperne di più?",
		Buttons: quick("Sì, dimmi", "No, grazie"), Example: []string{"il siero alla vitamina C", "la crema idratante notte"}},
	{Name: "cross_sell", Language: "fr", Category: marketing,
		Body:    "Ceux qui aiment {{1}} apprécient aussi {{2}}. Voulez-vous en savoir plus ?",
		Buttons: quick("Oui, dites-moi", "Non, merci"), Example: []string{"le sérum à la vitamine C", "la crème hydratante de nuit"}},

	{Name: "quote_ready", Language: "en", Category: utility,
		Body:    "Your quote {{1}} for {{2}} is ready: {{3}}. Reply to confirm the order.",
		Example: []string{"Q-2031", "front brake pads", "€89.00"}},
	{Name: "quote_ready", Language: "it", Category: utility,
		Body:    "Il preventivo {{1}} per {{2}} è pronto: {{3}}. Rispondi per confermare l'ordine.",
		Example: []string{"Q-2031", "pastiglie freno anteriori", "89,00 €"}},
	{Name: "quote_ready", Language: "fr", Category: utility,
		Body:    "Votre devis {{1}} pour {{2}} est prêt : {{3}}. Répondez pour confirmer la commande.",
		Example: []string{"Q-2031", "plaquettes de frein avant", "89,00 €"}},

	{Name: "return_update", Language: "en", Category: utility,
		Body:    "Your return {{1}} has an update from our team: {{2}}. Reply to this message if you have any questions.",
		Example: []string{"R-118", "we have received the parts and your refund is on its way"}},
	{Name: "return_update", Language: "it", Category: utility,
		Body:    "Il tuo reso {{1}} ha un aggiornamento dal nostro team: {{2}}. Rispondi a questo messaggio se hai domande.",
		Example: []string{"R-118", "abbiamo ricevuto i pezzi e il rimborso è in arrivo"}},
	{Name: "return_update", Language: "fr", Category: utility,
		Body:    "Votre retour {{1}} a été mis à jour par notre équipe : {{2}}. Répondez à ce message si vous avez des questions.",
		Example: []string{"R-118", "nous avons reçu les pièces et votre remboursement est en cours"}},

	// The double opt-in's request when the 24-hour window is closed (after
	// the hosted form): its button's payload is set at send time
	// (consent.ConfirmID), so the tap is recognised.
	{Name: "optin_confirm", Language: "en", Category: utility,
		Body:    "You asked to receive our offers and news on WhatsApp. Tap the button to confirm; you can stop at any time by writing STOP.",
		Buttons: quick("Yes, send me offers")},
	{Name: "optin_confirm", Language: "it", Category: utility,
		Body:    "Hai chiesto di ricevere le nostre offerte e novità su WhatsApp. Tocca il pulsante per confermare; puoi smettere in qualsiasi momento scrivendo STOP.",
		Buttons: quick("Sì, voglio offerte")},
	{Name: "optin_confirm", Language: "fr", Category: utility,
		Body:    "Vous avez demandé à recevoir nos offres et nouveautés sur WhatsApp. Touchez le bouton pour confirmer ; vous pouvez arrêter à tout moment en écrivant STOP.",
		Buttons: quick("Oui, envoyez-moi")},
}

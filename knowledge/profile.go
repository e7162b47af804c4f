package knowledge

import (
	"context"
	"strings"

	"sendbox/business"
	"sendbox/language"
	"sendbox/store"
)

// The business profile as knowledge: written out in each of the five
// languages, so that "Quali sono gli orari di apertura?" finds the opening
// hours in Italian and the customer is answered in Italian. sendbox's own
// words (headings, weekdays, "closed", "price") come from the tables
// below; what the owner wrote (the name, about, address, services and
// prices) stays as written. Each passage says a thing once: its heading
// names it, its text does not repeat it.

// profileWords are sendbox's words of the profile, in one language.
type profileWords struct {
	about, hours, address, contact, services string // headings
	days                                     [7]string
	open, closed, timezone                   string // "Monday: open 09:00–18:00", "Sunday: closed"
	findUs, reachUs                          string // lead-ins of the address and contact passages
	phone, email, website                    string
	price, takes                             string
	colon                                    string // ": ", or French " : "
}

var profileTables = map[string]profileWords{
	"en": {about: "About us", hours: "Opening hours", address: "Address", contact: "Contact", services: "Services and prices",
		days: [7]string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"},
		open: "open", closed: "closed", timezone: "time zone",
		findUs: "Where to find us", reachUs: "How to reach us", phone: "phone", email: "e-mail", website: "website",
		price: "price", takes: "takes", colon: ": "},
	"it": {about: "Chi siamo", hours: "Orari di apertura", address: "Indirizzo", contact: "Contatti", services: "Servizi e prezzi",
		days: [7]string{"lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica"},
		open: "aperto", closed: "chiuso", timezone: "fuso orario",
		findUs: "Dove trovarci", reachUs: "Come contattarci", phone: "telefono", email: "e-mail", website: "sito web",
		price: "prezzo", takes: "durata", colon: ": "},
	"fr": {about: "Qui sommes-nous", hours: "Horaires d'ouverture", address: "Adresse", contact: "Nous contacter",
		services: "Prestations et tarifs",
		days:     [7]string{"lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"},
		open:     "ouvert", closed: "fermé", timezone: "fuseau horaire",
		findUs: "Où nous trouver", reachUs: "Comment nous joindre", phone: "téléphone", email: "e-mail", website: "site web",
		price: "prix", takes: "durée", colon: " : "},
	"es": {about: "Quiénes somos", hours: "Horario de apertura", address: "Dirección", contact: "Contacto",
		services: "Servicios y precios",
		days:     [7]string{"lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"},
		open:     "abierto", closed: "cerrado", timezone: "zona horaria",
		findUs: "Dónde encontrarnos", reachUs: "Cómo contactarnos", phone: "teléfono", email: "correo electrónico",
		website: "web", price: "precio", takes: "duración", colon: ": "},
	"de": {about: "Über uns", hours: "Öffnungszeiten", address: "Anschrift", contact: "Kontakt", services: "Leistungen und Preise",
		days: [7]string{"Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"},
		open: "geöffnet", closed: "geschlossen", timezone: "Zeitzone",
		findUs: "So finden Sie uns", reachUs: "So erreichen Sie uns", phone: "Telefon", email: "E-Mail", website: "Website",
		price: "Preis", takes: "Dauer", colon: ": "},
}

// SyncProfile writes the business profile into the knowledge base in each
// of the five languages, so the opening hours, address, services and
// prices are retrieved like any passage, by customers of each language.
func (b *Base) SyncProfile(ctx context.Context, p *business.Profile) error {
	var parts []store.ChunkText
	for _, l := range language.Langs {
		parts = append(parts, ProfilePassages(p, l)...)
	}
	var body []string
	for _, c := range parts {
		body = append(body, "# "+c.Heading+"\n"+c.Text)
	}
	title := "Business profile"
	if p.Name != "" {
		title = p.Name + " — business profile"
	}
	d := &store.KBDoc{Kind: store.KBProfile, Title: title, Body: strings.Join(body, "\n\n"), Source: "profile"}
	// Written as it is already: nothing to index or embed again.
	if old, err := b.Store.ListKB(ctx, store.KBProfile, ""); err != nil {
		return err
	} else if len(old) == 1 && old[0].Title == d.Title && old[0].Body == d.Body {
		return nil
	}
	if err := b.Store.SaveKB(ctx, d, parts); err != nil {
		return err
	}
	b.Wake()
	return nil
}

// ProfilePassages writes the profile in lang (English if lang is none of
// the five) as passages a customer's question matches: one each for the
// business, the opening hours, where to find it, how to reach it, and the
// services with their prices. Each is for customers of lang only.
func ProfilePassages(p *business.Profile, lang string) []store.ChunkText {
	if !language.Valid(lang) {
		lang = language.Default
	}
	w := profileTables[lang]
	var out []store.ChunkText
	add := func(heading, text string) {
		out = append(out, store.ChunkText{Heading: heading, Text: text, Lang: lang})
	}
	name, about := strings.TrimSpace(p.Name), strings.TrimSpace(p.About)
	switch {
	case name != "" && about != "":
		add(w.about, sentence(name)+" "+about)
	case name != "" || about != "":
		add(w.about, sentence(name+about))
	}
	hours := make([]string, 0, len(p.Hours))
	for i, h := range p.Hours {
		if h.Closed {
			hours = append(hours, w.days[i]+w.colon+w.closed)
		} else {
			hours = append(hours, w.days[i]+w.colon+w.open+" "+h.Open+"–"+h.Close)
		}
	}
	text := strings.Join(hours, "; ") + " (" + w.timezone + " " + p.Timezone + ")."
	// Closed days and special hours, by date: "2026-12-25: closed (Christmas)".
	var dated []string
	for _, c := range p.Closures {
		d := c.From
		if c.To != "" && c.To != c.From {
			d += "–" + c.To
		}
		dated = append(dated, d+w.colon+w.closed+note(c.Reason))
	}
	for _, sp := range p.Special {
		dated = append(dated, sp.Date+w.colon+w.open+" "+sp.Open+"–"+sp.Close+note(sp.Note))
	}
	if len(dated) > 0 {
		text += " " + strings.Join(dated, "; ") + "."
	}
	add(w.hours, text)
	if a := strings.TrimSpace(p.Address); a != "" {
		add(w.address, w.findUs+w.colon+sentence(a))
	}
	var contact []string
	for _, c := range [][2]string{{w.phone, p.Phone}, {w.email, p.Email}, {w.website, p.Website}} {
		if v := strings.TrimSpace(c[1]); v != "" {
			contact = append(contact, c[0]+" "+v)
		}
	}
	if len(contact) > 0 {
		add(w.contact, w.reachUs+w.colon+strings.Join(contact, ", ")+".")
	}
	if len(p.Services) > 0 {
		lines := make([]string, 0, len(p.Services))
		for _, s := range p.Services {
			l := s.Name
			if s.Price != "" {
				l += ", " + w.price + " " + s.Price
			}
			if s.Duration != "" {
				l += ", " + w.takes + " " + s.Duration
			}
			lines = append(lines, l)
		}
		// Long lists are cut into passages like any text.
		for _, ps := range Chunk(strings.Join(lines, "\n\n")) {
			add(w.services, sentence(strings.ReplaceAll(ps.Text, "\n\n", "; ")))
		}
	}
	return out
}

// note is the owner's reason for a date, in brackets, or nothing.
func note(s string) string {
	if s = strings.TrimSpace(s); s == "" {
		return ""
	}
	return " (" + s + ")"
}

// sentence ends s with a full stop unless it ends a sentence already.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	for _, end := range []string{".", "!", "?", "…"} {
		if s == "" || strings.HasSuffix(s, end) {
			return s
		}
	}
	return s + "."
}

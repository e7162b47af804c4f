package corpus

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// lang holds one language's words. Lists are ordered most common first:
// pickZ draws them with Zipf weights.
type lang struct {
	code          string
	first, last   []string
	cities        []string
	streets       []string
	mail          []string
	days, months  []string
	greet, short  []string
	buttons       []string
	agent         []string // generic agent replies
	notes         []string // contact notes
	slots         map[string][]string
	biz           map[string]*bizText
	cc            string // phone country code
	dateFmt       string // %d day, %s month
	priceFmt      func(int) string
	plateGen      func(*rand.Rand) string
	mobilePrefix  []string
	nationalDigit int
}

// bizText are one business's messages in one language.
type bizText struct {
	in, out, captions, templates []string
}

func (l *lang) phone(r *rand.Rand) string {
	var sb strings.Builder
	sb.WriteString("+" + l.cc + " " + pick(r, l.mobilePrefix) + " ")
	for i := range l.nationalDigit {
		if i == 3 {
			sb.WriteByte(' ')
		}
		sb.WriteByte(byte('0' + r.IntN(10)))
	}
	return sb.String()
}

func (l *lang) date(r *rand.Rand) string {
	return fmt.Sprintf(l.dateFmt, 1+r.IntN(28), pick(r, l.months))
}

func (l *lang) price(r *rand.Rand) string {
	v := []int{29, 49, 80, 120, 250, 390, 650, 890, 1250, 1890, 2400}[r.IntN(11)]
	return l.priceFmt(v)
}

func (l *lang) plate(r *rand.Rand) string { return l.plateGen(r) }

func letters(r *rand.Rand, n int) string {
	const up = "ABCDEFGHJKLMNPRSTVWXYZ"
	b := make([]byte, n)
	for i := range b {
		b[i] = up[r.IntN(len(up))]
	}
	return string(b)
}

func digits(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + r.IntN(10))
	}
	return string(b)
}

func euro(sep string, after bool) func(int) string {
	return func(v int) string {
		s := fmt.Sprint(v)
		if v >= 1000 {
			s = s[:len(s)-3] + sep + s[len(s)-3:]
		}
		if after {
			return s + " €"
		}
		return "€" + s
	}
}

var langs = map[string]*lang{"it": &italian, "en": &english, "fr": &french, "es": &spanish, "de": &german}

// Langs are the corpus's languages.
var Langs = []string{"it", "en", "fr", "es", "de"}

var italian = lang{
	code: "it", cc: "39", mobilePrefix: []string{"333", "347", "328", "339", "320", "348", "391"}, nationalDigit: 7,
	first:   words("Giulia Marco Francesca Luca Chiara Alessandro Sara Matteo Martina Andrea Federica Davide Elena Simone Valentina Lorenzo Silvia Giorgio Paola Stefano Roberta Nicola Ilaria Fabio Anna Riccardo Beatrice Tommaso Noemi Niccolò"),
	last:    words("Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno Gallo Conti De_Luca Mancini Costa Giordano Rizzo Lombardi Moretti Barbieri Fontana Santoro Mariani Rinaldi Caruso Ferrara Galli Martini Leone"),
	cities:  []string{"Milano", "Roma", "Torino", "Bologna", "Firenze", "Napoli", "Verona", "Bergamo", "Padova", "Genova", "Bari", "Palermo", "Monza", "Brescia"},
	streets: []string{"Via Roma", "Corso Buenos Aires", "Via Garibaldi", "Piazza Duomo", "Via Mazzini", "Viale Monza", "Via Dante", "Corso Vittorio Emanuele"},
	mail:    []string{"gmail.com", "libero.it", "hotmail.it", "yahoo.it", "outlook.it", "tiscali.it"},
	days:    words("lunedì martedì mercoledì giovedì venerdì sabato domani stamattina"),
	months:  words("gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre"),
	dateFmt: "%d %s", priceFmt: euro(".", true),
	plateGen: func(r *rand.Rand) string { return letters(r, 2) + digits(r, 3) + letters(r, 2) },
	greet:    []string{"Buongiorno", "Ciao", "Salve", "Buonasera", "Buongiorno a tutti", "Ciao, sono {first}"},
	short:    []string{"ok", "grazie!", "Grazie mille", "perfetto", "va bene", "sì", "ok grazie", "👍", "certo", "no grazie", "a domani", "ricevuto", "gentilissimi", "ok perfetto, grazie", "ci vediamo {day}", "arrivo", "scusate il ritardo", "tutto ok", "d'accordo", "buona giornata"},
	buttons:  []string{"Conferma", "Annulla", "Sì, confermo", "Sposta appuntamento", "Parla con un operatore", "Vedi catalogo", "Stato ordine"},
	agent: []string{"Certo, le mando subito il preventivo", "Grazie per averci contattato!", "Un attimo che verifico", "Le confermo la disponibilità",
		"Buongiorno {first}, come possiamo aiutarla?", "Perfetto, a presto!", "Mi scusi per l'attesa", "Le scrivo appena ho notizie", "Sono {agent}, la seguo io",
		"Le lascio il link per il pagamento", "Siamo aperti dal lunedì al sabato, 9-19"},
	notes: []string{"Cliente storico, preferisce essere contattato la mattina", "Ha chiesto di non ricevere promozioni", "Paga con bonifico", "Vuole sempre il preventivo scritto", "Referenza di {last}"},
	slots: map[string][]string{
		"treatment": {"pulizia", "otturazione", "visita di controllo", "impianto", "sbiancamento", "apparecchio", "devitalizzazione", "estrazione del dente del giudizio", "corona in ceramica", "faccette", "radiografia panoramica", "bite notturno"},
		"product":   {"divano", "poltrona", "tavolo", "letto", "divano letto", "sedia", "armadio", "libreria", "madia", "comodino", "pouf", "credenza"},
		"products":  {"divani", "poltrone", "tavoli", "letti", "sedie", "armadi", "librerie", "madie", "comodini"},
		"material":  {"velluto", "pelle", "lino", "tessuto bouclé", "legno di rovere", "noce", "microfibra", "marmo", "cotone", "ecopelle"},
		"color":     {"verde", "grigio", "blu", "beige", "bianco", "nero", "verde bottiglia", "giallo ocra", "terracotta", "rosa cipria", "tortora", "antracite"},
		"cosm":      {"crema idratante", "siero alla vitamina C", "crema antirughe", "solare SPF 50", "contorno occhi", "detergente viso", "struccante bifasico", "maschera all'argilla", "rossetto opaco", "mascara waterproof", "fondotinta", "olio per capelli"},
		"skin":      {"pelle secca", "pelle grassa", "pelle sensibile", "pelle mista", "pelle matura"},
		"part":      {"filtro olio", "pastiglie freni", "dischi freno", "kit distribuzione", "filtro aria", "batteria", "ammortizzatori", "candele", "pompa dell'acqua", "frizione", "specchietto retrovisore", "faro anteriore", "tergicristalli", "cinghia servizi"},
	},
	biz: map[string]*bizText{
		"dental": {
			in: []string{"Vorrei prenotare un appuntamento per una pulizia dei denti", "Ho un forte mal di denti da {day}, potete vedermi oggi?",
				"Mi potete mandare il preventivo per {treatment}?", "Confermo l'appuntamento del {date} alle {time}", "Devo spostare l'appuntamento, il {date} non riesco",
				"Quanto costa {treatment}?", "Il dente mi fa ancora male dopo l'estrazione", "Avete posto il {date} pomeriggio?", "Mi sanguinano le gengive quando lavo i denti",
				"Accettate pagamenti a rate per l'apparecchio?", "Mia figlia ha perso un dente da latte, è normale che sanguini?", "Il dottor {last} riceve anche il sabato?",
				"Posso venire con mio figlio per una visita?", "Mi si è rotta l'otturazione mangiando", "Vorrei un preventivo per l'impianto, il mio numero di pratica è {order}"},
			out: []string{"Le confermo l'appuntamento del {date} alle {time}", "Il preventivo per {treatment} è di {price}", "Abbiamo posto il {date} alle {time}, va bene?",
				"Per il mal di denti può prendere un antidolorifico, la aspettiamo {day}", "Le invio il preventivo dettagliato via email", "Il dottor {last} la riceve {day} alle {time}",
				"Ricordi di portare la radiografia", "Dopo la pulizia eviti caffè e vino rosso per qualche ora"},
			captions:  []string{"ecco la foto del dente", "la radiografia che mi avete chiesto", "preventivo firmato", "guardate la gengiva", "foto dell'apparecchio rotto"},
			templates: []string{"Gentile {first}, le ricordiamo l'appuntamento del {date} alle {time} presso lo Studio Dentistico. Risponda SÌ per confermare.", "Il suo preventivo n. {order} è pronto: {price}. Per informazioni risponda a questo messaggio."},
		},
		"furniture": {
			in: []string{"Avete ancora il divano in velluto verde che ho visto in vetrina?", "Quanto costa il {product} in {material} {color}?",
				"Vorrei vedere i {products} {color} in showroom {day}", "Il {product} è arrivato con un graffio sul bracciolo", "Quando consegnate il mio ordine {order}?",
				"Il divano a tre posti entra in un ascensore da 80 cm?", "Mi mandate le foto del tessuto {color}?", "Fate consegna e montaggio a {city}?",
				"Il {product} {model} è disponibile anche in {material}?", "Vorrei cambiare il colore del {product} ordinato, è possibile?", "Avete divani letto con materasso alto?",
				"Quali sono le misure del tavolo allungabile?", "Il velluto verde si macchia facilmente?", "Posso pagare il divano in tre rate?"},
			out: []string{"Il {product} in {material} {color} costa {price}", "La consegna del suo ordine {order} è prevista per il {date}", "Le mando le foto del tessuto {color}",
				"Sì, il divano in velluto verde è ancora disponibile", "Consegna e montaggio a {city} sono inclusi sopra i 1.000 €", "Il modello {model} è disponibile in {material} e {material}",
				"La aspettiamo in showroom {day} alle {time}", "Per il graffio mandiamo un tecnico {day}"},
			captions:  []string{"ecco il divano in salotto", "questo è il graffio sul bracciolo", "le misure della parete", "il colore che cerco", "foto del {product} {color}"},
			templates: []string{"Ciao {first}, il tuo ordine {order} è in consegna il {date}. Il corriere ti chiamerà 30 minuti prima.", "Nuova collezione {model}: divani in velluto e bouclé. Vieni a trovarci in showroom!"},
		},
		"cosmetics": {
			in: []string{"Avete la {cosm} per {skin}?", "Il siero alla vitamina C è tornato disponibile?", "Vorrei un consiglio per un fondotinta per {skin}",
				"Il mio ordine {order} non è ancora arrivato", "Che differenza c'è tra la crema giorno e la crema notte?", "Fate campioncini del profumo {model}?",
				"La {cosm} va bene anche per {skin}?", "Mi è arrivato il rossetto sbagliato, posso cambiarlo?", "Avete il kit regalo per la festa della mamma?",
				"Quanto costa la spedizione a {city}?", "Il mascara waterproof si toglie con lo struccante normale?"},
			out: []string{"La {cosm} costa {price}, gliela mettiamo da parte?", "Il suo ordine {order} è stato spedito oggi", "Per la {skin} le consiglio la {cosm}",
				"Certo, le mandiamo un campioncino del profumo {model}", "Il cambio è gratuito entro 14 giorni", "La spedizione è gratuita sopra i 49 €"},
			captions:  []string{"ecco la crema che uso", "questo è il colore che cerco", "foto del pacco arrivato rotto", "la mia pelle oggi"},
			templates: []string{"Ciao {first}! Il tuo ordine {order} è stato spedito. Codice sconto BEAUTY10 per il prossimo acquisto.", "Sconti del 20% su tutta la linea {model} fino al {date}!"},
		},
		"autoparts": {
			in: []string{"Mi serve il {part} per una {car} targa {plate}", "Avete le pastiglie freni anteriori per {car}?", "Il codice del ricambio è {partno}",
				"Telaio {vin}, mi serve la pompa dell'acqua", "Quanto costa il kit distribuzione per {car}?", "Il pezzo {partno} è disponibile in magazzino?",
				"Spedite anche a {city}?", "La macchina è una {car}, targa {plate}, che olio devo usare?", "Il {part} che mi avete mandato non è compatibile",
				"Mi fate il preventivo per {part} e {part}?"},
			out: []string{"Il {part} per {car} costa {price}", "Il ricambio {partno} è disponibile, spedizione in 24 ore", "Per la targa {plate} il codice corretto è {partno}",
				"Ci mandi il numero di telaio per favore", "Il pezzo arriva {day}", "Per {car} serve olio 5W30"},
			captions:  []string{"foto del libretto", "ecco il pezzo rotto", "targa {plate}", "il codice sul vecchio {part}"},
			templates: []string{"Gentile cliente, il ricambio {partno} da lei ordinato è disponibile per il ritiro. Ordine {order}.", "Promo tagliando: olio + filtri a {price} per {car}."},
		},
	},
}

var english = lang{
	code: "en", cc: "44", mobilePrefix: []string{"7700", "7911", "7400", "7520", "7800"}, nationalDigit: 6,
	first:   words("Emma Oliver Amelia Jack Olivia Harry Isla George Ava Noah Sophie Charlie Grace Jacob Lily Thomas Mia James Ella William Emily Daniel Chloe Joshua Lucy Samuel Hannah Ethan Sarah Michael Kate"),
	last:    words("Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson Evans Walker White Roberts Green Hall Wood Jackson Clarke Patel Khan Lewis Hughes Edwards Turner Cooper Hill Ward Morris"),
	cities:  []string{"London", "Manchester", "Birmingham", "Leeds", "Bristol", "Liverpool", "Edinburgh", "Glasgow", "Cardiff", "Brighton", "Oxford", "Cambridge"},
	streets: []string{"High Street", "Station Road", "Church Lane", "Park Avenue", "Victoria Road", "Queen Street", "Mill Lane", "King's Road"},
	mail:    []string{"gmail.com", "outlook.com", "hotmail.co.uk", "yahoo.co.uk", "icloud.com", "btinternet.com"},
	days:    words("Monday Tuesday Wednesday Thursday Friday Saturday tomorrow today"),
	months:  words("January February March April May June July August September October November December"),
	dateFmt: "%[2]s %[1]d", priceFmt: func(v int) string { return fmt.Sprintf("£%d", v) },
	plateGen: func(r *rand.Rand) string { return letters(r, 2) + digits(r, 2) + " " + letters(r, 3) },
	greet:    []string{"Hi", "Hello", "Good morning", "Hey", "Hi there", "Hi, it's {first}"},
	short:    []string{"ok", "thanks!", "Thank you", "great", "perfect", "yes", "ok thanks", "👍", "sure", "no thanks", "see you tomorrow", "got it", "cheers", "sounds good", "see you {day}", "on my way", "sorry I'm late", "all good", "brilliant", "have a nice day"},
	buttons:  []string{"Confirm", "Cancel", "Yes, confirm", "Reschedule", "Talk to an agent", "View catalogue", "Order status"},
	agent: []string{"Sure, I'll send you the quote right away", "Thanks for getting in touch!", "Let me check that for you", "I can confirm it's available",
		"Hi {first}, how can we help?", "Perfect, see you soon!", "Sorry for the wait", "I'll get back to you as soon as I hear", "I'm {agent}, I'll look after you",
		"Here is the payment link", "We're open Monday to Saturday, 9am to 7pm"},
	notes: []string{"Long-standing customer, prefers morning calls", "Asked not to receive promotions", "Pays by bank transfer", "Always wants a written quote", "Referred by {last}"},
	slots: map[string][]string{
		"treatment": {"cleaning", "filling", "check-up", "implant", "whitening", "braces", "root canal", "wisdom tooth extraction", "ceramic crown", "veneers", "x-ray", "night guard"},
		"product":   {"sofa", "armchair", "table", "bed", "sofa bed", "chair", "wardrobe", "bookcase", "sideboard", "bedside table", "footstool", "dresser"},
		"products":  {"sofas", "armchairs", "tables", "beds", "chairs", "wardrobes", "bookcases", "sideboards"},
		"material":  {"velvet", "leather", "linen", "bouclé", "oak", "walnut", "microfibre", "marble", "cotton", "faux leather"},
		"color":     {"green", "grey", "blue", "beige", "white", "black", "bottle green", "ochre", "terracotta", "dusty pink", "taupe", "charcoal"},
		"cosm":      {"moisturiser", "vitamin C serum", "anti-wrinkle cream", "SPF 50 sunscreen", "eye cream", "face wash", "makeup remover", "clay mask", "matte lipstick", "waterproof mascara", "foundation", "hair oil"},
		"skin":      {"dry skin", "oily skin", "sensitive skin", "combination skin", "mature skin"},
		"part":      {"oil filter", "brake pads", "brake discs", "timing belt kit", "air filter", "battery", "shock absorbers", "spark plugs", "water pump", "clutch", "wing mirror", "headlight", "wiper blades", "auxiliary belt"},
	},
	biz: map[string]*bizText{
		"dental": {
			in: []string{"I'd like to book an appointment for a cleaning", "I've had a bad toothache since {day}, can you see me today?",
				"Could you send me a quote for {treatment}?", "Confirming my appointment on {date} at {time}", "I need to reschedule my appointment, {date} doesn't work",
				"How much is {treatment}?", "My tooth still hurts after the extraction", "Do you have any slots on {date} afternoon?", "My gums bleed when I brush my teeth",
				"Do you offer payment plans for braces?", "Does Dr {last} work on Saturdays?", "Can I bring my son for a check-up?", "My filling broke while eating"},
			out: []string{"Your appointment is confirmed for {date} at {time}", "The quote for {treatment} is {price}", "We have a slot on {date} at {time}, does that work?",
				"For the toothache you can take a painkiller, see you {day}", "I'm emailing you the detailed quote", "Dr {last} can see you on {day} at {time}",
				"Please bring your x-ray", "After the cleaning avoid coffee and red wine for a few hours"},
			captions:  []string{"here's a photo of the tooth", "the x-ray you asked for", "signed quote", "look at the gum", "broken braces"},
			templates: []string{"Dear {first}, this is a reminder of your appointment on {date} at {time}. Reply YES to confirm.", "Your quote no. {order} is ready: {price}. Reply to this message for details."},
		},
		"furniture": {
			in: []string{"Do you still have the green velvet sofa from the window?", "How much is the {product} in {color} {material}?",
				"I'd like to see the {color} {products} in the showroom {day}", "The {product} arrived with a scratch on the armrest", "When will you deliver my order {order}?",
				"Will the three-seater sofa fit in an 80 cm lift?", "Can you send me photos of the {color} fabric?", "Do you deliver and assemble in {city}?",
				"Is the {model} {product} also available in {material}?", "Can I change the colour of the {product} I ordered?", "Does the velvet stain easily?"},
			out: []string{"The {product} in {color} {material} is {price}", "Your order {order} will be delivered on {date}", "Here are the photos of the {color} fabric",
				"Yes, the green velvet sofa is still available", "Delivery and assembly in {city} are free over £1,000", "The {model} comes in {material} and {material}",
				"See you in the showroom {day} at {time}"},
			captions:  []string{"the sofa in my living room", "this is the scratch", "wall measurements", "the colour I'm after", "photo of the {color} {product}"},
			templates: []string{"Hi {first}, your order {order} is out for delivery on {date}. The driver will call 30 minutes before.", "New {model} collection: velvet and bouclé sofas. Visit our showroom!"},
		},
		"cosmetics": {
			in: []string{"Do you have a {cosm} for {skin}?", "Is the vitamin C serum back in stock?", "Could you recommend a foundation for {skin}?",
				"My order {order} hasn't arrived yet", "What's the difference between the day cream and the night cream?", "Do you have samples of the {model} perfume?",
				"Is the {cosm} fine for {skin}?", "I got the wrong lipstick, can I exchange it?", "How much is shipping to {city}?"},
			out: []string{"The {cosm} is {price}, shall we keep one for you?", "Your order {order} was shipped today", "For {skin} I'd recommend the {cosm}",
				"Of course, we'll send you a sample of {model}", "Exchanges are free within 14 days", "Shipping is free over £49"},
			captions:  []string{"this is the cream I use", "the shade I'm looking for", "the parcel arrived damaged"},
			templates: []string{"Hi {first}! Your order {order} has shipped. Use BEAUTY10 for 10% off your next order.", "20% off the whole {model} range until {date}!"},
		},
		"autoparts": {
			in: []string{"I need a {part} for a {car}, reg {plate}", "Do you have front brake pads for a {car}?", "The part number is {partno}",
				"VIN {vin}, I need the water pump", "How much is a timing belt kit for a {car}?", "Is part {partno} in stock?",
				"Do you ship to {city}?", "It's a {car}, reg {plate}, which oil should I use?", "The {part} you sent doesn't fit", "Can I get a quote for {part} and {part}?"},
			out: []string{"The {part} for the {car} is {price}", "Part {partno} is in stock, next-day delivery", "For reg {plate} the right part is {partno}",
				"Could you send us the VIN please?", "The part arrives {day}", "The {car} takes 5W30 oil"},
			captions:  []string{"photo of the logbook", "the broken part", "reg {plate}", "number on the old {part}"},
			templates: []string{"Dear customer, part {partno} is ready for collection. Order {order}.", "Service offer: oil and filters for {price} on your {car}."},
		},
	},
}

var french = lang{
	code: "fr", cc: "33", mobilePrefix: []string{"6", "7"}, nationalDigit: 8,
	first:   words("Camille Louis Léa Gabriel Chloé Jules Manon Hugo Inès Lucas Jade Arthur Zoé Raphaël Louise Nathan Alice Théo Emma Paul Juliette Maël Clara Victor Anaïs Antoine Élodie Mathis Margaux Étienne"),
	last:    words("Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent Lefèbvre Michel Garcia David Bertrand Roux Vincent Fournier Morel Girard André Mercier Dupont Lambert Bonnet François Rousseau Faure"),
	cities:  []string{"Paris", "Lyon", "Marseille", "Toulouse", "Nice", "Nantes", "Strasbourg", "Montpellier", "Bordeaux", "Lille", "Rennes", "Genève"},
	streets: []string{"Rue de la République", "Avenue des Champs-Élysées", "Boulevard Saint-Michel", "Rue Victor Hugo", "Place de l'Église", "Rue du Château", "Avenue Jean Jaurès"},
	mail:    []string{"gmail.com", "orange.fr", "free.fr", "hotmail.fr", "laposte.net", "sfr.fr"},
	days:    words("lundi mardi mercredi jeudi vendredi samedi demain aujourd'hui"),
	months:  words("janvier février mars avril mai juin juillet août septembre octobre novembre décembre"),
	dateFmt: "%d %s", priceFmt: euro(" ", true),
	plateGen: func(r *rand.Rand) string { return letters(r, 2) + "-" + digits(r, 3) + "-" + letters(r, 2) },
	greet:    []string{"Bonjour", "Salut", "Bonsoir", "Bonjour à tous", "Coucou", "Bonjour, c'est {first}"},
	short:    []string{"ok", "merci !", "Merci beaucoup", "parfait", "d'accord", "oui", "ok merci", "👍", "bien sûr", "non merci", "à demain", "reçu", "super", "ça marche", "à {day}", "j'arrive", "désolé pour le retard", "tout est bon", "top", "bonne journée"},
	buttons:  []string{"Confirmer", "Annuler", "Oui, je confirme", "Déplacer le rendez-vous", "Parler à un conseiller", "Voir le catalogue", "Suivi de commande"},
	agent: []string{"Bien sûr, je vous envoie le devis tout de suite", "Merci de nous avoir contactés !", "Je vérifie et je reviens vers vous", "Je vous confirme la disponibilité",
		"Bonjour {first}, comment pouvons-nous vous aider ?", "Parfait, à bientôt !", "Désolé pour l'attente", "Je vous écris dès que j'ai des nouvelles", "C'est {agent}, je m'occupe de vous",
		"Voici le lien de paiement", "Nous sommes ouverts du lundi au samedi, 9h-19h"},
	notes: []string{"Client fidèle, préfère être appelé le matin", "Ne souhaite pas recevoir de promotions", "Paie par virement", "Veut toujours un devis écrit", "Recommandé par {last}"},
	slots: map[string][]string{
		"treatment": {"détartrage", "plombage", "contrôle", "implant", "blanchiment", "appareil dentaire", "dévitalisation", "extraction de la dent de sagesse", "couronne en céramique", "facettes", "radio panoramique", "gouttière"},
		"product":   {"canapé", "fauteuil", "table", "lit", "canapé-lit", "chaise", "armoire", "bibliothèque", "buffet", "table de chevet", "pouf", "commode"},
		"products":  {"canapés", "fauteuils", "tables", "lits", "chaises", "armoires", "bibliothèques", "buffets"},
		"material":  {"velours", "cuir", "lin", "bouclette", "chêne", "noyer", "microfibre", "marbre", "coton", "simili cuir"},
		"color":     {"vert", "gris", "bleu", "beige", "blanc", "noir", "vert bouteille", "ocre", "terracotta", "rose poudré", "taupe", "anthracite"},
		"cosm":      {"crème hydratante", "sérum à la vitamine C", "crème anti-rides", "écran solaire SPF 50", "contour des yeux", "gel nettoyant", "démaquillant biphasé", "masque à l'argile", "rouge à lèvres mat", "mascara waterproof", "fond de teint", "huile capillaire"},
		"skin":      {"peau sèche", "peau grasse", "peau sensible", "peau mixte", "peau mature"},
		"part":      {"filtre à huile", "plaquettes de frein", "disques de frein", "kit de distribution", "filtre à air", "batterie", "amortisseurs", "bougies", "pompe à eau", "embrayage", "rétroviseur", "phare avant", "essuie-glaces", "courroie d'accessoires"},
	},
	biz: map[string]*bizText{
		"dental": {
			in: []string{"Je voudrais prendre rendez-vous pour un détartrage", "J'ai très mal aux dents depuis {day}, vous pouvez me recevoir aujourd'hui ?",
				"Pouvez-vous m'envoyer un devis pour {treatment} ?", "Je confirme le rendez-vous du {date} à {time}", "Je dois déplacer mon rendez-vous, le {date} je ne peux pas",
				"Combien coûte {treatment} ?", "J'ai encore mal après l'extraction", "Vous avez de la place le {date} après-midi ?", "Mes gencives saignent quand je me brosse les dents",
				"Le docteur {last} consulte le samedi ?", "Mon plombage est tombé en mangeant", "L'école de ma fille demande un certificat du dentiste"},
			out: []string{"Je vous confirme le rendez-vous du {date} à {time}", "Le devis pour {treatment} est de {price}", "Nous avons une place le {date} à {time}, ça vous va ?",
				"Pour la douleur prenez un antalgique, on vous attend {day}", "Je vous envoie le devis détaillé par e-mail", "Le docteur {last} vous reçoit {day} à {time}"},
			captions:  []string{"voici la photo de la dent", "la radio demandée", "devis signé", "regardez la gencive"},
			templates: []string{"Bonjour {first}, nous vous rappelons votre rendez-vous du {date} à {time}. Répondez OUI pour confirmer.", "Votre devis n° {order} est prêt : {price}."},
		},
		"furniture": {
			in: []string{"Vous avez encore le canapé en velours vert de la vitrine ?", "Combien coûte le {product} en {material} {color} ?",
				"Je voudrais voir les {products} {color} au showroom {day}", "Le {product} est arrivé avec une rayure sur l'accoudoir", "Quand livrez-vous ma commande {order} ?",
				"Le canapé trois places passe dans un ascenseur de 80 cm ?", "Vous pouvez m'envoyer des photos du tissu {color} ?", "Vous livrez et montez à {city} ?",
				"Le {product} {model} existe aussi en {material} ?", "Est-ce que le velours se tache facilement ?", "L'entrepôt est ouvert le samedi ?"},
			out: []string{"Le {product} en {material} {color} coûte {price}", "Votre commande {order} sera livrée le {date}", "Voici les photos du tissu {color}",
				"Oui, le canapé en velours vert est toujours disponible", "Livraison et montage à {city} offerts dès 1 000 €", "Le modèle {model} existe en {material} et en {material}"},
			captions:  []string{"le canapé dans le salon", "voici la rayure", "les mesures du mur", "photo du {product} {color}"},
			templates: []string{"Bonjour {first}, votre commande {order} sera livrée le {date}. Le livreur vous appellera 30 minutes avant.", "Nouvelle collection {model} : canapés en velours et bouclette."},
		},
		"cosmetics": {
			in: []string{"Vous avez une {cosm} pour {skin} ?", "Le sérum à la vitamine C est de nouveau disponible ?", "Un conseil pour un fond de teint pour {skin} ?",
				"Ma commande {order} n'est pas encore arrivée", "Quelle est la différence entre la crème de jour et la crème de nuit ?", "Vous avez des échantillons du parfum {model} ?",
				"J'ai reçu le mauvais rouge à lèvres, je peux l'échanger ?", "Combien coûte la livraison à {city} ?"},
			out: []string{"La {cosm} coûte {price}, on vous la met de côté ?", "Votre commande {order} est partie aujourd'hui", "Pour une {skin} je vous conseille la {cosm}",
				"L'échange est gratuit sous 14 jours", "La livraison est offerte dès 49 €"},
			captions:  []string{"voici la crème que j'utilise", "la teinte que je cherche", "le colis est arrivé abîmé"},
			templates: []string{"Bonjour {first} ! Votre commande {order} est expédiée. Code BEAUTE10 pour votre prochain achat.", "-20 % sur toute la gamme {model} jusqu'au {date} !"},
		},
		"autoparts": {
			in: []string{"Il me faut un {part} pour une {car} immatriculée {plate}", "Vous avez des plaquettes avant pour {car} ?", "La référence de la pièce est {partno}",
				"Numéro de châssis {vin}, il me faut la pompe à eau", "Combien coûte le kit de distribution pour {car} ?", "La pièce {partno} est en stock ?",
				"Vous livrez à {city} ?", "Le {part} reçu n'est pas compatible"},
			out: []string{"Le {part} pour {car} coûte {price}", "La pièce {partno} est disponible, livraison en 24 h", "Pour l'immatriculation {plate} la bonne référence est {partno}",
				"Pouvez-vous nous envoyer le numéro de châssis ?", "La pièce arrive {day}"},
			captions:  []string{"photo de la carte grise", "la pièce cassée", "immatriculation {plate}"},
			templates: []string{"Bonjour, la pièce {partno} est disponible au comptoir. Commande {order}.", "Offre vidange : huile + filtres à {price} pour {car}."},
		},
	},
}

var spanish = lang{
	code: "es", cc: "34", mobilePrefix: []string{"6", "7"}, nationalDigit: 8,
	first:   words("Lucía Hugo Martina Martín Sofía Pablo María Daniel Julia Alejandro Paula Álvaro Valeria Adrián Emma Diego Carmen Javier Laura Sergio Ana Iván Elena Jorge Marta Raúl Claudia Andrés Irene Óscar"),
	last:    words("García Rodríguez González Fernández López Martínez Sánchez Pérez Gómez Martín Jiménez Ruiz Hernández Díaz Moreno Muñoz Álvarez Romero Alonso Gutiérrez Navarro Torres Domínguez Vázquez Ramos Gil Ramírez Serrano Blanco Molina"),
	cities:  []string{"Madrid", "Barcelona", "Valencia", "Sevilla", "Zaragoza", "Málaga", "Bilbao", "Alicante", "Córdoba", "Valladolid", "Granada", "Palma"},
	streets: []string{"Calle Mayor", "Gran Vía", "Avenida de la Constitución", "Calle Real", "Plaza de España", "Paseo de Gracia", "Calle Alcalá"},
	mail:    []string{"gmail.com", "hotmail.es", "yahoo.es", "outlook.es", "telefonica.net"},
	days:    words("lunes martes miércoles jueves viernes sábado mañana hoy"),
	months:  words("enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre"),
	dateFmt: "%d de %s", priceFmt: euro(".", true),
	plateGen: func(r *rand.Rand) string { return digits(r, 4) + " " + letters(r, 3) },
	greet:    []string{"Hola", "Buenos días", "Buenas tardes", "Buenas", "Hola, soy {first}", "Hola a todos"},
	short:    []string{"ok", "¡gracias!", "Muchas gracias", "perfecto", "vale", "sí", "ok gracias", "👍", "claro", "no gracias", "hasta mañana", "recibido", "genial", "de acuerdo", "nos vemos el {day}", "ya voy", "perdón por el retraso", "todo bien", "estupendo", "buen día"},
	buttons:  []string{"Confirmar", "Cancelar", "Sí, confirmo", "Cambiar cita", "Hablar con un agente", "Ver catálogo", "Estado del pedido"},
	agent: []string{"Claro, le envío el presupuesto enseguida", "¡Gracias por contactarnos!", "Un momento, lo compruebo", "Le confirmo la disponibilidad",
		"Hola {first}, ¿en qué podemos ayudarle?", "¡Perfecto, hasta pronto!", "Disculpe la espera", "Le escribo en cuanto tenga noticias", "Soy {agent}, le atiendo yo",
		"Le dejo el enlace de pago", "Abrimos de lunes a sábado, de 9 a 19"},
	notes: []string{"Cliente habitual, prefiere llamadas por la mañana", "Pidió no recibir promociones", "Paga por transferencia", "Siempre quiere presupuesto por escrito", "Recomendado por {last}"},
	slots: map[string][]string{
		"treatment": {"limpieza", "empaste", "revisión", "implante", "blanqueamiento", "ortodoncia", "endodoncia", "extracción de la muela del juicio", "corona de cerámica", "carillas", "radiografía panorámica", "férula de descarga"},
		"product":   {"sofá", "sillón", "mesa", "cama", "sofá cama", "silla", "armario", "estantería", "aparador", "mesita de noche", "puf", "cómoda"},
		"products":  {"sofás", "sillones", "mesas", "camas", "sillas", "armarios", "estanterías", "aparadores"},
		"material":  {"terciopelo", "piel", "lino", "bouclé", "roble", "nogal", "microfibra", "mármol", "algodón", "polipiel"},
		"color":     {"verde", "gris", "azul", "beige", "blanco", "negro", "verde botella", "ocre", "terracota", "rosa palo", "topo", "antracita"},
		"cosm":      {"crema hidratante", "sérum de vitamina C", "crema antiarrugas", "protector solar SPF 50", "contorno de ojos", "limpiador facial", "desmaquillante bifásico", "mascarilla de arcilla", "pintalabios mate", "máscara de pestañas waterproof", "base de maquillaje", "aceite para el pelo"},
		"skin":      {"piel seca", "piel grasa", "piel sensible", "piel mixta", "piel madura"},
		"part":      {"filtro de aceite", "pastillas de freno", "discos de freno", "kit de distribución", "filtro de aire", "batería", "amortiguadores", "bujías", "bomba de agua", "embrague", "retrovisor", "faro delantero", "escobillas", "correa auxiliar"},
	},
	biz: map[string]*bizText{
		"dental": {
			in: []string{"Quería pedir cita para una limpieza dental", "Tengo un dolor de muelas fuerte desde el {day}, ¿me pueden ver hoy?",
				"¿Me pueden enviar el presupuesto de {treatment}?", "Confirmo la cita del {date} a las {time}", "Tengo que cambiar la cita, el {date} no puedo",
				"¿Cuánto cuesta {treatment}?", "Me sigue doliendo después de la extracción", "¿Tienen hueco el {date} por la tarde?", "Me sangran las encías al cepillarme",
				"¿La doctora {last} atiende los sábados?", "Se me ha caído el empaste comiendo"},
			out: []string{"Le confirmo la cita del {date} a las {time}", "El presupuesto de {treatment} es de {price}", "Tenemos hueco el {date} a las {time}, ¿le va bien?",
				"Para el dolor puede tomar un analgésico, le esperamos el {day}", "Le envío el presupuesto detallado por correo"},
			captions:  []string{"foto de la muela", "la radiografía que me pidieron", "presupuesto firmado"},
			templates: []string{"Hola {first}, le recordamos su cita del {date} a las {time}. Responda SÍ para confirmar.", "Su presupuesto n.º {order} está listo: {price}."},
		},
		"furniture": {
			in: []string{"¿Todavía tienen el sofá de terciopelo verde del escaparate?", "¿Cuánto cuesta el {product} de {material} {color}?",
				"Quiero ver los {products} {color} en la tienda el {day}", "El {product} llegó con un arañazo en el reposabrazos", "¿Cuándo entregan mi pedido {order}?",
				"¿El sofá de tres plazas cabe en un ascensor de 80 cm?", "¿Me mandan fotos de la tela {color}?", "¿Hacen entrega y montaje en {city}?",
				"¿El {product} {model} está también en {material}?", "¿El terciopelo se mancha fácilmente?"},
			out: []string{"El {product} de {material} {color} cuesta {price}", "Su pedido {order} se entregará el {date}", "Le mando las fotos de la tela {color}",
				"Sí, el sofá de terciopelo verde sigue disponible", "Entrega y montaje en {city} gratis a partir de 1.000 €", "El modelo {model} está en {material} y {material}"},
			captions:  []string{"el sofá en el salón", "este es el arañazo", "medidas de la pared", "foto del {product} {color}"},
			templates: []string{"Hola {first}, su pedido {order} se entrega el {date}. El repartidor le llamará 30 minutos antes.", "Nueva colección {model}: sofás de terciopelo y bouclé."},
		},
		"cosmetics": {
			in: []string{"¿Tienen {cosm} para {skin}?", "¿El sérum de vitamina C vuelve a estar disponible?", "¿Me recomiendan una base para {skin}?",
				"Mi pedido {order} todavía no ha llegado", "¿Qué diferencia hay entre la crema de día y la de noche?", "¿Tienen muestras del perfume {model}?",
				"Me llegó el pintalabios equivocado, ¿puedo cambiarlo?", "¿Cuánto cuesta el envío a {city}?"},
			out: []string{"La {cosm} cuesta {price}, ¿se la guardamos?", "Su pedido {order} salió hoy", "Para {skin} le recomiendo la {cosm}",
				"El cambio es gratis durante 14 días", "El envío es gratis a partir de 49 €"},
			captions:  []string{"esta es la crema que uso", "el tono que busco", "el paquete llegó roto"},
			templates: []string{"¡Hola {first}! Su pedido {order} ha sido enviado. Código BELLEZA10 para su próxima compra.", "¡20 % en toda la línea {model} hasta el {date}!"},
		},
		"autoparts": {
			in: []string{"Necesito un {part} para un {car} matrícula {plate}", "¿Tienen pastillas de freno delanteras para {car}?", "La referencia de la pieza es {partno}",
				"Bastidor {vin}, necesito la bomba de agua", "¿Cuánto cuesta el kit de distribución para {car}?", "¿La pieza {partno} está en stock?",
				"¿Envían a {city}?", "El {part} que me mandaron no es compatible"},
			out: []string{"El {part} para {car} cuesta {price}", "La pieza {partno} está disponible, envío en 24 horas", "Para la matrícula {plate} la referencia correcta es {partno}",
				"¿Nos manda el número de bastidor, por favor?", "La pieza llega el {day}"},
			captions:  []string{"foto del permiso de circulación", "la pieza rota", "matrícula {plate}"},
			templates: []string{"Estimado cliente, la pieza {partno} ya está disponible para recoger. Pedido {order}.", "Oferta cambio de aceite: aceite y filtros por {price} para {car}."},
		},
	},
}

var german = lang{
	code: "de", cc: "49", mobilePrefix: []string{"151", "160", "170", "171", "176", "157"}, nationalDigit: 7,
	first:   words("Lukas Anna Leon Mia Finn Hannah Jonas Emilia Paul Lea Felix Sophie Max Marie Elias Lena Noah Laura Ben Julia Tim Sarah Jan Katharina Moritz Johanna Niklas Jürgen Jörg Birgit"),
	last:    words("Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann Lange Schmitt Werner Krause Meier Lehmann"),
	cities:  []string{"Berlin", "Hamburg", "München", "Köln", "Frankfurt", "Stuttgart", "Düsseldorf", "Leipzig", "Dortmund", "Nürnberg", "Wien", "Zürich"},
	streets: []string{"Hauptstraße", "Bahnhofstraße", "Schulstraße", "Gartenstraße", "Dorfstraße", "Goethestraße", "Lindenallee", "Marktplatz"},
	mail:    []string{"gmx.de", "web.de", "gmail.com", "t-online.de", "outlook.de", "freenet.de"},
	days:    words("Montag Dienstag Mittwoch Donnerstag Freitag Samstag morgen heute"),
	months:  words("Januar Februar März April Mai Juni Juli August September Oktober November Dezember"),
	dateFmt: "%d. %s", priceFmt: euro(".", true),
	plateGen: func(r *rand.Rand) string {
		return pick(r, []string{"M", "B", "HH", "K", "F", "S", "D"}) + "-" + letters(r, 2) + " " + fmt.Sprint(100+r.IntN(9900))
	},
	greet:   []string{"Hallo", "Guten Tag", "Guten Morgen", "Moin", "Hallo, hier ist {first}", "Servus"},
	short:   []string{"ok", "danke!", "Vielen Dank", "perfekt", "alles klar", "ja", "ok danke", "👍", "gerne", "nein danke", "bis morgen", "erhalten", "super", "passt", "bis {day}", "bin unterwegs", "sorry für die Verspätung", "alles gut", "prima", "schönen Tag noch"},
	buttons: []string{"Bestätigen", "Abbrechen", "Ja, bestätigen", "Termin verschieben", "Mit einem Mitarbeiter sprechen", "Katalog ansehen", "Bestellstatus"},
	agent: []string{"Natürlich, ich schicke Ihnen gleich das Angebot", "Danke für Ihre Nachricht!", "Einen Moment, ich prüfe das", "Ich bestätige die Verfügbarkeit",
		"Hallo {first}, wie können wir helfen?", "Perfekt, bis bald!", "Entschuldigen Sie die Wartezeit", "Ich melde mich, sobald ich etwas weiß", "Hier ist {agent}, ich kümmere mich darum",
		"Hier ist der Zahlungslink", "Wir haben Montag bis Samstag von 9 bis 19 Uhr geöffnet"},
	notes: []string{"Stammkunde, bevorzugt Anrufe am Vormittag", "Möchte keine Werbung erhalten", "Zahlt per Überweisung", "Will immer ein schriftliches Angebot", "Empfohlen von {last}"},
	slots: map[string][]string{
		"treatment": {"Zahnreinigung", "Füllung", "Kontrolle", "Implantat", "Bleaching", "Zahnspange", "Wurzelbehandlung", "Weisheitszahn-Entfernung", "Keramikkrone", "Veneers", "Röntgenbild", "Knirscherschiene"},
		"product":   {"Sofa", "Sessel", "Tisch", "Bett", "Schlafsofa", "Stuhl", "Kleiderschrank", "Bücherregal", "Sideboard", "Nachttisch", "Hocker", "Kommode"},
		"products":  {"Sofas", "Sessel", "Tische", "Betten", "Stühle", "Schränke", "Regale", "Kommoden"},
		"material":  {"Samt", "Leder", "Leinen", "Bouclé", "Eiche", "Nussbaum", "Mikrofaser", "Marmor", "Baumwolle", "Kunstleder"},
		"color":     {"grün", "grau", "blau", "beige", "weiß", "schwarz", "flaschengrün", "ocker", "terrakotta", "altrosa", "taupe", "anthrazit"},
		"cosm":      {"Feuchtigkeitscreme", "Vitamin-C-Serum", "Anti-Falten-Creme", "Sonnencreme LSF 50", "Augencreme", "Waschgel", "Make-up-Entferner", "Tonerde-Maske", "matter Lippenstift", "wasserfeste Mascara", "Foundation", "Haaröl"},
		"skin":      {"trockene Haut", "fettige Haut", "empfindliche Haut", "Mischhaut", "reife Haut"},
		"part":      {"Ölfilter", "Bremsbeläge", "Bremsscheiben", "Zahnriemensatz", "Luftfilter", "Batterie", "Stoßdämpfer", "Zündkerzen", "Wasserpumpe", "Kupplung", "Außenspiegel", "Scheinwerfer", "Wischerblätter", "Keilrippenriemen"},
	},
	biz: map[string]*bizText{
		"dental": {
			in: []string{"Ich möchte einen Termin für eine Zahnreinigung", "Ich habe seit {day} starke Zahnschmerzen, können Sie mich heute drannehmen?",
				"Können Sie mir ein Angebot für {treatment} schicken?", "Ich bestätige den Termin am {date} um {time}", "Ich muss den Termin verschieben, am {date} geht nicht",
				"Was kostet {treatment}?", "Der Zahn tut nach dem Ziehen immer noch weh", "Haben Sie am {date} nachmittags etwas frei?", "Mein Zahnfleisch blutet beim Putzen",
				"Arbeitet Frau Dr. {last} auch samstags?", "Meine Füllung ist beim Essen rausgefallen"},
			out: []string{"Ihr Termin am {date} um {time} ist bestätigt", "Das Angebot für {treatment} beträgt {price}", "Wir haben am {date} um {time} frei, passt das?",
				"Gegen die Schmerzen können Sie ein Schmerzmittel nehmen, wir sehen uns {day}", "Ich schicke Ihnen das Angebot per E-Mail"},
			captions:  []string{"Foto vom Zahn", "das Röntgenbild", "unterschriebenes Angebot"},
			templates: []string{"Hallo {first}, wir erinnern an Ihren Termin am {date} um {time}. Antworten Sie JA zur Bestätigung.", "Ihr Angebot Nr. {order} ist fertig: {price}."},
		},
		"furniture": {
			in: []string{"Haben Sie das grüne Samtsofa aus dem Schaufenster noch?", "Was kostet das {product} in {material} {color}?",
				"Ich möchte mir die {products} in {color} {day} im Showroom ansehen", "Das {product} kam mit einem Kratzer an der Armlehne", "Wann liefern Sie meine Bestellung {order}?",
				"Passt das Dreisitzer-Sofa in einen 80 cm Aufzug?", "Können Sie mir Fotos vom Stoff in {color} schicken?", "Liefern und montieren Sie auch in {city}?",
				"Gibt es das {product} {model} auch in {material}?", "Ist Samt empfindlich gegen Flecken?"},
			out: []string{"Das {product} in {material} {color} kostet {price}", "Ihre Bestellung {order} wird am {date} geliefert", "Hier die Fotos vom Stoff in {color}",
				"Ja, das grüne Samtsofa ist noch da", "Lieferung und Montage in {city} sind ab 1.000 € gratis", "Das Modell {model} gibt es in {material} und {material}"},
			captions:  []string{"das Sofa im Wohnzimmer", "hier der Kratzer", "Maße der Wand", "Foto vom {product} in {color}"},
			templates: []string{"Hallo {first}, Ihre Bestellung {order} wird am {date} geliefert. Der Fahrer ruft 30 Minuten vorher an.", "Neue Kollektion {model}: Sofas aus Samt und Bouclé."},
		},
		"cosmetics": {
			in: []string{"Haben Sie eine {cosm} für {skin}?", "Ist das Vitamin-C-Serum wieder lieferbar?", "Welche Foundation empfehlen Sie für {skin}?",
				"Meine Bestellung {order} ist noch nicht angekommen", "Was ist der Unterschied zwischen Tagescreme und Nachtcreme?", "Gibt es Proben vom Parfum {model}?",
				"Ich habe den falschen Lippenstift bekommen, kann ich ihn umtauschen?", "Was kostet der Versand nach {city}?"},
			out: []string{"Die {cosm} kostet {price}, sollen wir eine zurücklegen?", "Ihre Bestellung {order} wurde heute verschickt", "Für {skin} empfehle ich die {cosm}",
				"Der Umtausch ist innerhalb von 14 Tagen kostenlos", "Versand ab 49 € gratis"},
			captions:  []string{"das ist die Creme, die ich benutze", "der Farbton, den ich suche", "das Paket kam beschädigt an"},
			templates: []string{"Hallo {first}! Ihre Bestellung {order} ist unterwegs. Mit BEAUTY10 sparen Sie beim nächsten Einkauf.", "20 % auf die ganze Serie {model} bis zum {date}!"},
		},
		"autoparts": {
			in: []string{"Ich brauche einen {part} für einen {car}, Kennzeichen {plate}", "Haben Sie Bremsbeläge vorne für {car}?", "Die Teilenummer ist {partno}",
				"Fahrgestellnummer {vin}, ich brauche die Wasserpumpe", "Was kostet ein Zahnriemensatz für {car}?", "Ist das Teil {partno} auf Lager?",
				"Liefern Sie nach {city}?", "Der {part}, den Sie geschickt haben, passt nicht", "Welches Öl brauche ich für den {car}?"},
			out: []string{"Der {part} für {car} kostet {price}", "Teil {partno} ist auf Lager, Lieferung in 24 Stunden", "Für Kennzeichen {plate} ist die richtige Nummer {partno}",
				"Schicken Sie uns bitte die Fahrgestellnummer", "Das Teil kommt {day}", "Öl mit Ölwechsel: Öl und Filter für {price}"},
			captions:  []string{"Foto vom Fahrzeugschein", "das kaputte Teil", "Kennzeichen {plate}"},
			templates: []string{"Sehr geehrte Kundin, sehr geehrter Kunde, das Teil {partno} liegt zur Abholung bereit. Bestellung {order}.", "Ölwechsel-Angebot: Öl und Filter für {price} für Ihren {car}."},
		},
	},
}

// words splits a word list; "_" joins the parts of one entry ("De_Luca").
func words(s string) []string {
	f := strings.Fields(s)
	for i, w := range f {
		f[i] = strings.ReplaceAll(w, "_", " ")
	}
	return f
}

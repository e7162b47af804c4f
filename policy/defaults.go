package policy

// Default is the policy a new sendbox starts with: what a dental clinic, a
// showroom, a shop or a parts dealer would want escalated to a person at
// once, in the five languages. Owners edit it in the panel.
func Default() *Rules {
	return &Rules{
		Phrases: map[string]map[string][]string{
			Medical: {
				"it": {"mal di denti", "dolor*", "fa male", "male forte", "sanguin*", "gonfi*", "ascesso", "febbre", "emergenz*",
					"pus", "infezione", "dente rotto", "non riesco a mangiare", "non riesco a dormire", "non riesco a masticare"},
				"fr": {"mal aux dents", "mal de dent*", "douleur*", "j'ai mal", "saign*", "gonfl*", "abces", "fievre", "urgence medicale",
					"urgence dentaire", "infection", "dent cassee", "pus"},
				"en": {"toothache", "pain", "painful", "in pain", "hurts", "bleeding", "bleeds", "swelling", "swollen", "abscess", "fever",
					"emergency", "infection", "infected", "broken tooth", "pus", "can't eat", "cannot eat", "can't sleep", "cannot sleep"},
				"es": {"dolor*", "me duele", "duele mucho", "sangr*", "hinchad*", "inflamad*", "absceso", "fiebre", "emergencia",
					"infeccion", "diente roto", "pus"},
				"de": {"zahnschmerz*", "schmerz*", "tut weh", "blutet", "bluten", "blutung", "geschwollen", "schwellung", "abszess",
					"fieber", "notfall", "entzundung", "infektion", "zahn abgebrochen", "eiter"},
			},
			Complaint: {
				"it": {"vergogna", "pessim*", "inaccettabile", "schifo", "reclamo", "lamentela", "delus*", "arrabbiat*",
					"furioso", "truffa", "mai piu", "servizio scadente", "incompetent*"},
				"fr": {"honte", "inadmissible", "inacceptable", "reclamation", "decu*", "furieux", "furieuse",
					"arnaque", "nul", "lamentable", "scandale*"},
				"en": {"disgrace*", "unacceptable", "terrible", "awful", "worst", "complaint", "complain", "disappointed",
					"angry", "furious", "scam", "ridiculous", "incompetent", "never again"},
				"es": {"verguenza", "inaceptable", "pesimo", "queja", "reclamacion", "decepcionad*", "enfadad*", "furios*",
					"estafa", "fatal", "lamentable"},
				"de": {"unverschamt", "inakzeptabel", "frechheit", "beschwerde", "reklamation", "enttauscht", "wutend",
					"verarsche", "betrug", "katastrophe", "schlechteste*"},
			},
			Refund: {
				"it": {"rimborso", "rimborsare", "rimborsatemi", "rivoglio i soldi", "restituzione dei soldi", "soldi indietro"},
				"fr": {"rembours*", "mon argent", "argent en retour"},
				"en": {"refund*", "money back", "reimburse*", "chargeback"},
				"es": {"reembols*", "devolucion del dinero", "devuelvan el dinero", "mi dinero"},
				"de": {"erstattung", "ruckerstattung", "geld zuruck", "erstatten"},
			},
			Legal: {
				"it": {"avvocat*", "denunc*", "querela", "vie legali", "tribunale", "causa legale", "carabinieri", "codacons"},
				"fr": {"avocat*", "porter plainte", "poursuite*", "tribunal", "justice", "mise en demeure"},
				"en": {"lawyer*", "attorney", "sue you", "sue your", "will sue", "going to sue", "suing", "lawsuit", "legal action",
					"take you to court", "small claims"},
				"es": {"abogad*", "denuncia*", "demanda*", "juzgado", "tribunal", "accion legal"},
				"de": {"anwalt", "rechtsanwalt", "anzeige erstatten", "verklagen", "klage", "gericht", "rechtliche schritte"},
			},
			Human: {
				"it": {"operatore", "parlare con una persona", "persona reale", "persona vera", "essere umano", "parlare con qualcuno",
					"parlare con un", "voglio parlare con", "passatemi", "sei un bot", "sei un robot"},
				"fr": {"un humain", "parler a une personne", "un conseiller", "parler a un agent", "parler a quelqu'un", "vraie personne",
					"etes vous un robot", "un operateur"},
				"en": {"human", "real person", "speak to a person", "talk to a person", "speak to an agent", "talk to an agent",
					"speak to someone", "talk to someone", "speak with someone", "are you a bot", "operator", "representative"},
				"es": {"hablar con una persona", "persona real", "un humano", "hablar con un agente", "hablar con alguien",
					"eres un bot", "operador"},
				"de": {"einem menschen", "echte person", "mitarbeiter", "sachbearbeiter", "mit jemandem sprechen",
					"bist du ein bot", "einen menschen"},
			},
		},
		OptOut: map[string][]string{
			"it": {"non voglio piu ricevere", "non inviatemi piu", "non mandatemi piu", "smettete di scrivermi", "toglietemi",
				"cancellatemi dalla lista", "disiscrivimi", "annulla iscrizione", "niente piu messaggi", "niente pubblicita"},
			"fr": {"ne plus recevoir", "desabonner", "desinscrire", "me desinscrire", "arretez de m'envoyer", "stop pub",
				"plus de messages"},
			"en": {"unsubscribe", "opt out", "stop sending", "stop messaging me", "remove me from", "no more messages",
				"don't message me", "do not contact me"},
			"es": {"darme de baja", "dar de baja", "no quiero recibir", "dejen de enviarme", "no me envien mas", "borrarme de la lista"},
			"de": {"abmelden", "abbestellen", "keine nachrichten mehr", "keine werbung mehr", "hort auf mir zu schreiben",
				"austragen"},
		},
		StopWords: map[string][]string{
			"it": {"stop", "basta", "disiscrivimi", "disiscrivi"},
			"fr": {"stop", "arret", "arreter", "desabonnement", "desinscription"},
			"en": {"stop", "unsubscribe", "stopall", "end", "quit", "unsub", "opt out"},
			"es": {"stop", "baja", "alto", "paren", "basta"},
			"de": {"stop", "stopp", "abmelden", "abbestellen"},
		},
		OptIn: map[string][]string{
			"it": {"iscrivimi di nuovo", "voglio ricevere le vostre offerte"},
			"fr": {"je veux recevoir vos offres", "réabonnez-moi"},
			"en": {"sign me up again", "resubscribe me"},
			"es": {"quiero volver a recibir sus ofertas", "suscríbanme otra vez"},
			"de": {"wieder anmelden", "meldet mich wieder an"},
		},
		StartWords: map[string][]string{
			// First opt-ins too: the wa.me link's keywords (consent.DefaultWordings).
			"it": {"start", "riattiva", "riattivami", "iscrivimi", "riiscrivimi", "iscrizione"},
			"fr": {"start", "reabonnement", "reabonner", "reinscription", "inscription", "abonnement", "inscrivez moi"},
			"en": {"start", "unstop", "subscribe", "resubscribe", "opt in", "sign up", "sign me up"},
			"es": {"start", "alta", "reactivar", "suscribirme", "suscribir", "darme de alta"},
			"de": {"start", "anmelden", "wieder anmelden", "abonnieren", "anmeldung"},
		},
		Negations: map[string][]string{
			"it": {"non", "no", "nessun", "nessuna", "niente", "nulla", "senza", "mai", "neanche", "nemmeno"},
			"fr": {"ne", "n", "pas", "jamais", "aucun", "aucune", "sans", "ni", "non", "rien"},
			"en": {"not", "no", "never", "without", "nothing", "don", "doesn", "didn", "isn", "aren", "wasn", "haven", "hasn", "hardly"},
			"es": {"no", "sin", "nunca", "jamas", "ningun", "ninguna", "nada", "tampoco", "ni"},
			"de": {"nicht", "kein", "keine", "keinen", "keinem", "keiner", "ohne", "nie", "niemals", "nichts"},
		},
	}
}

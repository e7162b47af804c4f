package policy

import (
	"strings"
)

//go:generate stringer -type=concept -trimprefix=c

// A concept is a meaning the built-in rules look for, whatever the words:
// "stop" is smettere, arrêter, stop, dejar de or aufhören, in any person
// and tense the patterns cover.
type concept uint8

// The concepts. Their words are in lexicons, by language.
const (
	cNeg          concept = iota // non, pas, not, no, nicht
	cMore                        // più, plus, more, más, mehr: with a negation, "no longer"
	cMe                          // me as object, also an enclitic ("toglietemi", "bórrenme")
	cMy                          // my
	cYour                        // your (the business's)
	cI                           // I as subject
	cAux1                        // "I have" before a past participle: ho, ai, he, hab
	cSelf                        // a verb in the first person: smetto, dejo
	cWant                        // voglio, veux, want, quiero, will
	cModal1                      // posso, can I, puedo, kann ich: the customer will do it
	cWhy                         // perché, pourquoi, why, warum
	cHow                         // come, comment, how, cómo, wie
	cDet                         // articles and demonstratives
	cOld                         // old, previous
	cMistake                     // by mistake
	cAgain                       // di nuovo, again, otra vez, wieder
	cFamily                      // son, wife, mother…
	cBe                          // be (a passive): essere, être, ser, werden
	cStop                        // stop, quit, smettere, arrêter, dejar de, aufhören
	cEnough                      // basta, enough, ça suffit, es reicht
	cFedUp                       // sick of, marre, stufo, harto, nervt
	cSend                        // send, write, contact, bother
	cReceive                     // receive, get
	cComms                       // messages, newsletter, notifications
	cPromo                       // offers, promotions, ads, spam
	cList                        // list, contacts, database
	cMList                       // a marketing list: broadcast, mailing, verteiler
	cNumber                      // number, contact details
	cRemove                      // remove, delete, take off
	cUnsub                       // unsubscribe
	cUnsubPast                   // unsubscribed (a past event)
	cDeact                       // deactivate, turn off
	cCancel                      // cancel (a subscription)
	cSubscription                // subscription
	cLeave                       // leave me alone
	cWait                        // a waiting list
	cPrint                       // printed, parcel
	cContinue                    // keep, continue
	cSub                         // subscribe, sign up
	cResub                       // resubscribe
	cReact                       // reactivate
	cActivate                    // activate, turn on
	cAdd                         // add, put, include, join
	cPutBack                     // put back, add again
	cReturn                      // come back
	cResume                      // start again, resume
	cAgree                       // accept, agree
	cInformed                    // informed, updated
	cOtherObj                    // things that are not marketing: account, card, order, course
	cMed                         // pain, bleeding, swelling, abscess
	cFever                       // fever
	cDental                      // tooth, gum, cheek
	cGone                        // gone, passed
	cProc                        // a treatment: cleaning, implant, anaesthesia
	cJudge                       // a judgement of the service: disgrace, incompetent, disappointed
	cRepeat                      // the third time, again
	cFail                        // wrong, cancelled, late, broken
	cNever                       // never again
	cWeather                     // weather, day
	cOtherShop                   // the shop next door
	cPraise                      // kind, great, thanks
	cRefund                      // refund
	cMoney                       // money, deposit
	cGiveBack                    // give back
	cReceived                    // arrived, received
	cThirdPayer                  // insurance, employer, expenses
	cLawyer                      // lawyer
	cLegal                       // court, lawsuit, legal action
	cCopula                      // am, is, sono, ist
	cWork                        // law firm, I work at
	cRecommend                   // recommended
	cTax                         // tax return
	cNear                        // near
	cInvoice                     // invoice
	cTalk                        // talk, speak, call, answer
	cPerson                      // someone, a person, a manager
	cReal                        // real, actual
	cRobot                       // bot, robot, automatic
	cPass                        // put me through
	cPast                        // talked, said (reported speech)
	cYesterday                   // yesterday
	cYou                         // you (addressing the bot)
	cKill                        // "is killing me", "bringt mich um"
	cThere                       // "is there", "c'è", "gibt es"
	cAccompany                   // comes with me
	cTimeUnit                    // week, month: "la settimana passata" is not "passata"
	cIf                          // if, se, si, wenn
	nConcepts
)

// cset is a set of concepts.
type cset [2]uint64

func (s *cset) add(c concept)     { s[c>>6] |= 1 << (c & 63) }
func (s cset) has(c concept) bool { return s[c>>6]&(1<<(c&63)) != 0 }
func (s cset) any(o cset) bool    { return s[0]&o[0] != 0 || s[1]&o[1] != 0 }
func (s *cset) union(o cset)      { s[0] |= o[0]; s[1] |= o[1] }

func set(cs ...concept) cset {
	var s cset
	for _, c := range cs {
		s.add(c)
	}
	return s
}

// lexicons hold, by language and concept, the words of each concept,
// separated by "|". A word is written folded (lower case, no accents; in
// German ä, ö, ü also stand for ae, oe, ue). "x*" is a prefix, "*x" a
// suffix, "*x*" a part of a word; "a b" is a sequence; "v ~p" is a verb
// with its particle later in the sentence ("hört ... auf", "take me off").
var lexicons = map[string]map[concept]string{
	"it": {
		cNeg:          "non|no|nessun|nessuno|nessuna|niente|nulla|senza|mai|neanche|nemmeno|neppure|ne",
		cMore:         "piu|+|altri|altre|altro|ulteriori|ancora",
		cMe:           "mi|me|ci|ce",
		cMy:           "mio|mia|miei|mie",
		cYour:         "vostra|vostro|vostri|vostre|tua|tuo|tuoi|tue|sua|suo|suoi|sue",
		cI:            "io",
		cAux1:         "ho|avevo|ero|sono",
		cSelf:         "smetto|smettiamo|smettero|la smetto|togliamo",
		cWant:         "voglio|vogliamo|vorrei|vorremmo|desidero|desideriamo|desidererei|gradirei|preferirei|piacerebbe|interessa|interessano|volevo|voleva|vogliate|fate in modo|fate si|fate che",
		cModal1:       "posso|possiamo|potrei|potremmo|devo|dobbiamo",
		cWhy:          "perche|come mai|xche",
		cHow:          "come",
		cDet:          "il|lo|la|i|gli|le|l|un|una|uno|questo|questa|questi|queste|quel|quello|quella|quei|quelle|sto|sta|sti|ste",
		cOld:          "vecchio|vecchia|vecchi|vecchie|precedente|quello vecchio",
		cMistake:      "per sbaglio|per errore|sbagliando|ho sbagliato a|erroneamente|senza volere",
		cAgain:        "di nuovo|nuovamente|un altra volta|ancora una volta|ancora",
		cFamily:       "figlio|figlia|figli|mamma|madre|padre|papa|marito|moglie|fratello|sorella|nonna|nonno|suocera|suocero|compagno|compagna|bambino|bambina|bimbo|bimba|fidanzato|fidanzata",
		cBe:           "essere|stato|stata|venire",
		cStop:         "smett*|smettila|smettetela|finitela|piantatela|piantala|cessate|interrompete|interrompere|stop|stoppate|fermatevi|fermate",
		cEnough:       "basta|ora basta|adesso basta",
		cFedUp:        "stufo|stufa|stufi|stufe|ne posso piu|scocciato|scocciata|stanco di|stanca di|rotto le scatole",
		cSend:         "mand*|invi*|scriv*|contatt*|spamm*|messaggiar*|disturb*|chiam*|importun*|tartass*|rimand*|inoltr*|rompere",
		cReceive:      "ricev*|ricevere|avere notizie|arriv*",
		cComms:        "messagg*|msg|mex|sms|notific*|newsletter|comunicazion*|whatsapp|volantin*|aggiornamenti",
		cPromo:        "offert*|promo|promoz*|pubblicit*|spam|novita|commerciali|marketing|sconti",
		cList:         "lista|liste|elenco|elenchi|rubrica|contatti|database|mailing|newsletter|broadcast|iscritti|archivio",
		cMList:        "broadcast|mailing|newsletter|diffusione|lista broadcast",
		cNumber:       "numero|cellulare|contatto|recapito|numeri",
		cRemove:       "togli*|tolg*|tolt*|rimuov*|rimoss*|rimozione|elimin*|cancell*|levatemi|levami|levate|levarmi|levare|depenn*|esclud*|escluso|stralci*",
		cUnsub:        "disiscriv*|desiscriv*|disiscrizione|deiscriv*|unsubscribe",
		cUnsubPast:    "disiscritt*|desiscritt*",
		cDeact:        "disattiv*|spegn*|bloccate",
		cCancel:       "annull*|disdic*|disdir*|disdett*|cancell*",
		cSubscription: "iscrizione|iscrizioni|abbonamento|abbonamenti|sottoscrizione",
		cLeave:        "lasci* ~pace|lasci* ~stare",
		cWait:         "attesa",
		cPrint:        "stampat*|pacco|confezione|scatola|imballo",
		cContinue:     "continu*|seguit*",
		cSub:          "iscriv*|abbonar*|abbonate|registrar*|aderire",
		cResub:        "reiscriv*|riiscriv*|reiscrizione|riabbon*|reiscritt*",
		cReact:        "riattiv*",
		cActivate:     "attiv*|accendete|accend*",
		cAdd:          "aggiung*|mett*|inser*|includ*|unirmi|entrare|aggiunt*",
		cPutBack:      "rimett*|reinser*|riaggiung*|reintegr*|reinclud*",
		cReturn:       "torn*|rientr*",
		cResume:       "ricominci*|riprend*|ripartire|ripristin*",
		cAgree:        "accett*|acconsent*|consenso|d accordo",
		cInformed:     "aggiornat*|informat*|aggiornar*|informar*",
		cOtherObj:     "account|profilo|carta|tessera|garanzia|codice|ordine|conto|wifi|app|password|corso|palestra|trattamento|terapia|prenotazione|appuntamento|preventivo",
		cMed:          "dolor*|sanguin*|gonfi*|ascess*|pus|infezion*|infiamm*|emergenz*|fa ~male|fanno ~male|faccia ~male|malissimo|mal di denti|mal di dente|male ai denti|male al dente|male forte|rott* ~dente|dente ~rott*|spacc* ~dente|dente ~spacc*|pulsa|pulsante|non riesco a mangiare|non riesco a dormire|non riesco a masticare|non riesco a chiudere|un male cane|male pazzesco",
		cFever:        "febbre|febbricola",
		cDental:       "dente|denti|gengiv*|molare|otturazione|guancia|bocca|mascella|estrazione|devitalizzazione|impianto|dentiera|faccia",
		cGone:         "passat*|sparit*|andato via|andata via|scompars*|migliorat*|sparito|passato|andato",
		cProc:         "pulizia|sbiancamento|impianto|anestesia|estrazione|otturazione|devitalizzazione|apparecchio|ortodonzia|detartrasi|intervento|igiene|faccette|ablazione|puntura",
		cJudge:        "vergogn*|pessim*|inaccettabil*|inammissibil*|schifo|schifos*|schifezza|dilettant*|incompetent*|incapac*|ridicol*|scandal*|indecent*|pagliacc*|inaffidabil*|disastr*|cialtron*|buffoni|scadente|penos*|assurd*|truff*|ladri|non e serio|poco serio|non e professionale|poco professionale|non ci siamo|come lavorate|reclamo|reclami|lamentela|presa in giro|prendete in giro|inqualificabil*|delus*|deludent*|arrabbiat*|furios*|incazzat*|indignat*|esasperat*|imbarazzant*|non ci posso credere|non posso crederci|ma vi sembra normale|ma state scherzando",
		cRepeat:       "second* ~volta|terz* ~volta|quart* ~volta|quint* ~volta|ennesim* ~volta|enne ~volta|ancora una volta|di nuovo|un altra volta|ogni volta|sempre|continuamente|nuovamente|non e la prima volta|per l ennesima|ennesimo|ennesima|un altro|un altra",
		cFail:         "sbagli*|errore|errori|errat*|annull*|cancell*|spost*|rinvi*|dimentic*|perso|persa|persi|perse|perdut*|rott*|ritardo|in ritardo|presentat*|mai arrivat*|non e arrivat*|non funziona|difettos*|danneggiat*|graffiat*|strappat*|nessuno risponde|non risponde*|mancante|incomplet*|pezzo sbagliato",
		cNever:        "mai piu",
		cWeather:      "tempo|meteo|giornata|giorno|pioggia|traffico|settimana|periodo",
		cOtherShop:    "accanto|altro negozio|concorrenza|altri negozi",
		cPraise:       "gentil*|bravissim*|bravi|bravo|cortes*|simpatic*|disponibil*|perfett*|ottim*|complimenti|grazie|impeccabil*|benissimo|meglio",
		cRefund:       "rimbors*|storno",
		cMoney:        "soldi|denaro|importo|caparra|acconto|euro|pagamento|somma|cifra|quanto pagato|quanto ho pagato",
		cGiveBack:     "ridat*|ridar*|restitu*|rend*|indietro|rivoglio|rivogliamo|riavere|dovete",
		cReceived:     "arrivat*|ricevut*|accreditat*|incassat*|preso|gia|fatto|gia fatto",
		cThirdPayer:   "assicurazion*|mutua|spese|capo|datore|azienda|730|detrazion*|fondo",
		cLawyer:       "avvocat*|legale",
		cLegal:        "denunc*|querel*|vie legali|azione legale|azioni legali|tribunale|giudice|causa legale|fa* ~causa|carabinieri|codacons|antitrust|diffida|giudice di pace|decreto ingiuntivo|associazione consumatori|adiconsum|altroconsumo",
		cCopula:       "sono|e|sei|siamo|fa l|lavora come|faccio l",
		cWork:         "studio legale|studio di avvocati|lavoro|lavora|lavorano|colleghi|collega|ufficio|ordine degli avvocati",
		cRecommend:    "consigli*|raccomand*|suggerit*|indicato",
		cTax:          "redditi|tasse|fiscale|730|commercialista|detrazion*",
		cNear:         "vicino|vicina|accanto|davanti|dietro|zona",
		cInvoice:      "fattura|ricevuta|intestat*",
		cTalk:         "parl*|chiam*|rispond*|sentire|telefonat*",
		cPerson:       "qualcuno|persona|umano|umana|operatore|operatrice|responsabile|titolare|dottore|dottoressa|medico|dentista|direttore|gestore|essere umano|in carne e ossa|addetto|addetta|capo|proprietario",
		cReal:         "vera|vero|reale|reali|in carne e ossa|davvero",
		cRobot:        "bot|robot|risponditore|automatico|automatica|macchina|chatbot|intelligenza artificiale",
		cPass:         "passatemi|passami|passate|passare|mettetemi in contatto|metti* in contatto",
		cPast:         "parlato|sentito|chiamato|detto|risposto",
		cYesterday:    "ieri|l altro giorno|stamattina presto",
		cYou:          "sei|tu|siete|lei",
		cKill:         "mi sta uccidendo|mi uccide|mi ammazza|mi sta ammazzando",
		cAccompany:    "viene con me|verra con me|mi accompagna|mi accompagnera|accompagnat*",
		cThere:        "c e|ce|ci sono|qualcuno c e",
		cTimeUnit:     "settimana|mese|anno|volta|notte|giorno|weekend|sabato|domenica|lunedi|martedi|mercoledi|giovedi|venerdi",
		cIf:           "se|qualora|altrimenti|senno",
	},
	"fr": {
		cNeg:          "ne|n|pas|jamais|aucun|aucune|sans|ni|non|rien|plus jamais",
		cMore:         "plus|+|davantage|autres|encore",
		cMe:           "me|m|moi",
		cMy:           "mon|ma|mes",
		cYour:         "votre|vos|ton|ta|tes",
		cI:            "je|j",
		cAux1:         "ai|avais|suis|etais",
		cWant:         "veux|voudrais|souhaite|souhaiterais|desire|desirerais|aimerais|voulons|veut|interesse|interessent|voulais|voudrions|faites en sorte|faites que",
		cModal1:       "peux|puis|pourrais|pouvons|dois",
		cWhy:          "pourquoi|pk|pq|comment ca se fait",
		cHow:          "comment",
		cDet:          "le|la|les|l|un|une|ce|cette|ces|cet",
		cOld:          "ancien|ancienne|anciens|vieux|vieille|precedent|precedente",
		cMistake:      "par erreur|par megarde|sans faire expres|me suis trompe|me suis trompee|accidentellement",
		cAgain:        "de nouveau|a nouveau|encore|une fois de plus|re",
		cFamily:       "fils|fille|mere|maman|pere|papa|mari|femme|frere|soeur|enfant|copain|copine|conjoint|belle mere",
		cBe:           "etre|ete",
		cStop:         "arret*|cess*|stop|stopp*|arrete",
		cEnough:       "ca suffit|suffit|assez",
		cFedUp:        "marre|en peux plus|saoule|soule|fatigue de|fatiguee de|ras le bol",
		cSend:         "envo*|ecri*|ecriv*|contact*|spamm*|solicit*|sollicit*|harcel*|appel*|derang*|relanc*|renvo*|embet*",
		cReceive:      "recevoir|recoi*|recev*|recu|recus|recue|parvien*|arrive|arrivent",
		cComms:        "messag*|msg|sms|notification*|newsletter|communication*|whatsapp|texto*|mails|emails",
		cPromo:        "offre|offres|promo|promos|promotion*|pub|pubs|publicit*|spam|nouveaut*|bons plans|commerciale*|commerciaux|marketing|reductions",
		cList:         "liste|listes|fichier|fichiers|contacts|base|repertoire|diffusion|newsletter|mailing",
		cMList:        "diffusion|newsletter|mailing|liste de diffusion",
		cNumber:       "numero|contact|coordonnees|portable|numeros",
		cRemove:       "retir*|supprim*|suppression|enlev*|effac*|rayez|radiez|radier|virez|sortez|rayer|rayez",
		cUnsub:        "desabonn*|desinscri*|desabonnement|desinscription|unsubscribe",
		cUnsubPast:    "desabonne|desabonnee|desabonnes|desabonnees|desinscrit|desinscrite|desinscrits",
		cDeact:        "desactiv*|coupez|couper",
		cCancel:       "annul*|resili*",
		cSubscription: "abonnement|abonnements|inscription",
		cLeave:        "laiss* ~tranquille|laiss* ~paix|fichez ~paix|foutez ~paix|lachez moi",
		cWait:         "attente",
		cPrint:        "imprime*|colis|paquet|emballage|carton",
		cContinue:     "continu*|gardez",
		cSub:          "inscrire|inscrivez|inscris|inscrivent|inscrivez-moi|m inscrire|abonner|abonnez|abonne|m abonner",
		cResub:        "reabonn*|reinscri*|reabonnement|reinscription",
		cReact:        "reactiv*",
		cActivate:     "activ*|remettez en marche",
		cAdd:          "ajout*|mett*|inclu*|rejoindre",
		cPutBack:      "remett*|rajout*|reajout*|reintegr*",
		cReturn:       "reven*|retourn*|revenir",
		cResume:       "recommenc*|reprend*|reprenez|relanc*|redemarr*",
		cAgree:        "accepte*|accepter|consen*|d accord",
		cInformed:     "inform*|au courant",
		cOtherObj:     "compte|carte|garantie|code|commande|wifi|appli|mot de passe|cours|salle|traitement|formation|rdv|rendez|devis",
		cMed:          "douleur*|douloureu*|mal aux dents|mal a la dent|mal de dent*|mal au dent*|rage de dent*|fait ~mal|font ~mal|ai ~mal|super mal|tres mal|hyper mal|trop mal|horriblement mal|atrocement mal|saign*|gonfl*|enfl*|abces|pus|infection|infecte*|urgence|dent cassee|cass* ~dent|dent ~cass*|lancine*|me lance|lancinant*|elance*",
		cFever:        "fievre|temperature",
		cDental:       "dent|dents|molaire|molaires|gencive*|joue|bouche|machoire|plombage|extraction|implant|couronne",
		cGone:         "parti|partie|disparu*|passe|passee|fini|finie|termine|mieux",
		cProc:         "detartrage|blanchiment|implant|anesthesie|extraction|plombage|devitalisation|soin|soins|traitement|appareil|nettoyage|piqure",
		cJudge:        "honte|honteu*|lamentable*|nul|nuls|nulle|nulles|inadmissible|inacceptable|scandal*|incompetent*|amateur*|deplorable|pitoyable|minable|inexcusable|n importe quoi|pas serieux|arnaque*|escroc*|voleurs|catastroph*|desastreu*|foutage de gueule|inqualifiable|reclamation|decu|decue|decus|decues|decevant*|furieu*|en colere|fache|fachee|scandalise*|excede*|indigne*|je n y crois pas|j y crois pas|c est pas possible|vous vous moquez",
		cRepeat:       "deuxieme ~fois|troisieme ~fois|quatrieme ~fois|enieme ~fois|nieme ~fois|encore une fois|de nouveau|a nouveau|encore|toujours|chaque fois|une fois de plus|pas la premiere fois|encore un|encore une|un autre|une autre",
		cFail:         "tromp*|erreur*|mauvais*|annul*|deplace*|decale*|oubli*|perdu*|casse*|abime*|raye*|dechire*|retard*|pas venu*|jamais arrive*|pas arrive*|ne marche pas|ne fonctionne pas|defectueu*|endommag*|personne ne repond",
		cNever:        "ne reviendrai jamais|ne reviendrai plus|plus jamais|jamais plus",
		cWeather:      "temps|meteo|journee|jour|pluie|circulation|semaine",
		cOtherShop:    "d a cote|a cote|autre magasin|concurren*",
		cPraise:       "gentil*|sympa*|super|parfait*|genial*|bravo|merci|impeccable|top|adorable|serieux",
		cRefund:       "rembours*",
		cMoney:        "argent|acompte|somme|montant|euros|paiement|sous|fric|caution",
		cGiveBack:     "rend*|recuper*|restitu*|rendre|devez|doit",
		cReceived:     "arrive|arrivee|recu|recue|bien recu|credite|deja|fait|deja fait",
		cThirdPayer:   "mutuelle|assurance|frais|employeur|secu|securite sociale|note de frais|entreprise|boite",
		cLawyer:       "avocat*|huissier",
		cLegal:        "denonc*|porter plainte|porte plainte|deposer plainte|plainte contre|poursuites|vous poursuivre|poursuivre en justice|tribunal|tribunaux|en justice|justice|mise en demeure|repression des fraudes|dgccrf|association de consommateurs|ufc|que choisir|procedure judiciaire|judiciaire|gendarmerie|proces",
		cCopula:       "suis|est|es|sommes|etes",
		cWork:         "cabinet|travaille|travail|collegues|collegue|barreau|bureau",
		cRecommend:    "recommand*|conseill*|suggere",
		cTax:          "impots|impot|fiscal*|declaration",
		cNear:         "pres|proche|cote|quartier|en face",
		cInvoice:      "facture|au nom",
		cTalk:         "parl*|appel*|repond*|discuter",
		cPerson:       "quelqu un|quelqu|personne|humain|humaine|conseiller|conseillere|responsable|directeur|docteur|dentiste|medecin|operateur|operatrice|agent|patron|patronne|gerant|gerante|proprietaire|chef",
		cReal:         "vraie|vrai|reel|reelle|humain|humaine|en chair",
		cRobot:        "bot|robot|repondeur|automatique|machine|ia|chatbot",
		cPass:         "passez ~moi|passe ~moi|transferez|mettez ~moi en relation|mettre en relation",
		cPast:         "ai parle|parle avec|dit|repondu|appele",
		cYesterday:    "hier",
		cYou:          "etes|es|tu|vous",
		cKill:         "me tue|me tuer",
		cAccompany:    "vient avec moi|viendra avec moi|m accompagne|m accompagnera",
		cThere:        "il y a|y a t il|y a|est ce qu il y a",
		cTimeUnit:     "semaine|mois|annee|an|fois|nuit|jour|samedi|dimanche|lundi|mardi|mercredi|jeudi|vendredi",
		cIf:           "si|sinon",
	},
	"en": {
		cNeg:          "not|no|never|without|nothing|don|doesn|didn|isn|aren|wasn|weren|haven|hasn|hardly|t|nor|neither|none|nobody|cannot",
		cMore:         "more|anymore|longer|again|else|further|other|+",
		cMe:           "me|myself",
		cMy:           "my|mine",
		cYour:         "your|yours|ur",
		cI:            "i",
		cAux1:         "ve|have|had",
		cWant:         "want|wanna|wish|like|love|prefer|interested|need|make sure",
		cModal1:       "can i|could i|may i|should i|i can|i ll|i will|i need to|i have to",
		cWhy:          "why|how come",
		cHow:          "how",
		cDet:          "the|this|that|these|those|a|an",
		cOld:          "old|previous|former",
		cMistake:      "by mistake|accidentally|by accident|mistakenly|wrongly|didn t mean",
		cAgain:        "again|back|once more",
		cFamily:       "son|daughter|mum|mom|mother|dad|father|husband|wife|brother|sister|kid|kids|child|boyfriend|girlfriend|partner",
		cBe:           "be|being|been",
		cStop:         "stop|stopping|quit|cease|halt",
		cEnough:       "enough",
		cFedUp:        "sick of|fed up|tired of|sick and tired",
		cSend:         "send|sending|sends|text|texting|messaging|messaged|message me|msg me|contact*|spam|spamming|write|writing|email|emailing|call|calling|bother|bothering|bug|bugging|harass*|annoy*|pester*|ping|pinging",
		cReceive:      "receive*|receiving|get|getting|hear",
		cComms:        "message|messages|msg|msgs|text|texts|sms|notification*|newsletter*|update|updates|whatsapp|marketing|mailing",
		cPromo:        "offer|offers|promo|promos|promotion*|ad|ads|advert*|spam|deal|deals|news|marketing|advertising",
		cList:         "list|lists|database|contacts|mailing|newsletter|broadcast|records|system",
		cMList:        "broadcast|mailing|newsletter|mailing list",
		cNumber:       "number|contact|details|phone|numbers",
		cRemove:       "remove*|removal|delete*|deletion|erase*|take ~off|take ~out|get ~off|cross ~off|drop|strike ~off|purge",
		cUnsub:        "unsubscrib*|unsub|opt out|optout|opt ~out",
		cUnsubPast:    "unsubscribed|opted out",
		cDeact:        "deactivate*|disable*|turn ~off|switch ~off|mute",
		cCancel:       "cancel*|terminate|end",
		cSubscription: "subscription*|membership",
		cLeave:        "leave ~alone",
		cWait:         "waiting|waitlist|wait list",
		cPrint:        "printed|print|parcel|package|box|packaging",
		cContinue:     "keep|continue*|still",
		cSub:          "subscrib*|sign ~up|signup|join|register|opt in|opt ~in|optin|enrol*|enroll*",
		cResub:        "resubscrib*|re subscribe|resub|unstop|opt back in|opt me back in",
		cReact:        "reactivate*|re activate|reenable|re enable",
		cActivate:     "activate*|enable*|turn ~on|switch ~on|unmute",
		cAdd:          "add|added|adding|adds|put|include|join",
		cPutBack:      "put ~back|add ~back|take ~back|readd|re add",
		cReturn:       "back|come back",
		cResume:       "restart*|resume*|start|starting|begin",
		cAgree:        "agree*|accept*|consent*",
		cInformed:     "informed|updated|posted|in the loop",
		cOtherObj:     "account|card|warranty|code|order|wifi|app|password|course|gym|treatment|class|classes|booking|appointment|quote",
		cMed:          "pain|pains|painful|hurt|hurts|hurting|ache|aching|toothache|agony|excruciating|bleed*|bled|swell*|swollen|abscess|pus|infection|infected|emergency|throbbing|throb*|broke ~tooth|broken tooth|chipped ~tooth|cracked ~tooth|can t eat|can t sleep|couldn t sleep",
		cFever:        "fever|temperature",
		cDental:       "tooth|teeth|molar|molars|gum|gums|cheek|mouth|jaw|filling|extraction|implant|crown|root canal|wisdom",
		cGone:         "gone|disappeared|better|healed|went away|go away|gone away|passed|subsided|eased",
		cProc:         "cleaning|whitening|implant|anaesthetic|anesthetic|anaesthesia|anesthesia|extraction|filling|root canal|treatment|braces|procedure|injection|scale",
		cJudge:        "disgrace*|unacceptable|not acceptable|terrible|awful|worst|appalling|shocking|outrage*|ridiculous|incompetent|useless|unreliable|unprofessional|joke|scam|rip off|ripoff|pathetic|shameful|disgusting|horrible|atrocious|complaint|complain|complaining|amateur*|clowns|not good enough|disappointed|disappointing|angry|furious|livid|upset|pissed|fuming|can t believe it|cannot believe it|unbelievable|are you kidding",
		cRepeat:       "again|second ~time|third ~time|fourth ~time|umpteenth ~time|nth ~time|once again|yet again|every time|always|another time|not the first time|another|yet another",
		cFail:         "wrong|mistake*|messed|mess|cancel*|moved|rescheduled|forgot*|lost|broken|damaged|scratched|torn|late|delayed|didn t show|no show|never arrived|didn t arrive|doesn t work|faulty|defective|missing|nobody answers|no one answers",
		cNever:        "never again|never coming back|never come back|never be back|never buy",
		cWeather:      "weather|day|traffic|rain|week|morning",
		cOtherShop:    "next door|other shop|another shop|competitor*|other store|another store",
		cPraise:       "kind|nice|great|lovely|helpful|friendly|perfect|amazing|thanks|well done|reliable|awesome",
		cRefund:       "refund*|reimburs*|chargeback|money back",
		cMoney:        "money|deposit|payment|amount|cash|euros|pounds|dollars|quid",
		cGiveBack:     "back|return|owe|owes|pay ~back",
		cReceived:     "arrived|received|got|came through|came in|credited|already|done|did",
		cThirdPayer:   "insurance|insurer|expense|expenses|employer|company|boss|tax",
		cLawyer:       "lawyer*|attorney*|solicitor*|barrister",
		cLegal:        "sue|suing|sued|ll sue|lawsuit|legal action|legal proceedings|legal steps|court|courts|small claims|trading standards|ombudsman|police|consumer protection|better business bureau",
		cCopula:       "am|m|is|s|are|re|was",
		cWork:         "firm|work|works|working|office|colleagues|chambers",
		cRecommend:    "recommend*|advised|advise|suggested|referred",
		cTax:          "tax|taxes|hmrc|irs",
		cNear:         "near|nearby|next to|opposite|close to|area",
		cInvoice:      "invoice|receipt|bill|under",
		cTalk:         "talk*|speak*|call|chat|answer|reply",
		cPerson:       "someone|somebody|person|human|agent|operator|manager|representative|rep|dentist|doctor|staff|supervisor|owner|anyone|anybody",
		cReal:         "real|actual|live|human",
		cRobot:        "bot|robot|automated|automatic|machine|ai|chatbot",
		cPass:         "put ~through|transfer|connect ~me|get me a|get me an",
		cPast:         "spoke|talked|spoken|called|said|told",
		cYesterday:    "yesterday",
		cYou:          "you|are",
		cKill:         "killing me|kills me",
		cAccompany:    "coming with me|come with me|comes with me|accompan*",
		cThere:        "is there|anyone there|anybody there|is anyone|is anybody",
		cTimeUnit:     "week|month|year|time|night|day|weekend|saturday|sunday|monday|tuesday|wednesday|thursday|friday",
		cIf:           "if|unless|otherwise",
	},
	"es": {
		cNeg:          "no|sin|nunca|jamas|ningun|ninguna|ninguno|nada|tampoco|ni|nadie",
		cMore:         "mas|ya|+|otros|otras|seguir",
		cMe:           "me|nos",
		cMy:           "mi|mis",
		cYour:         "su|sus|vuestra|vuestro|vuestros|tu|tus",
		cI:            "yo",
		cAux1:         "he|habia",
		cSelf:         "dejo|dejamos|paro|paramos|equivoque|me equivoque",
		cWant:         "quiero|quiere|queremos|quisiera|deseo|desea|deseamos|gustaria|encantaria|interesa|interesan|prefiero|hagan que|haced que|procuren que",
		cModal1:       "puedo|podemos|podria|tengo que",
		cWhy:          "por que|porque no|xq",
		cHow:          "como",
		cDet:          "el|la|los|las|un|una|este|esta|estos|estas|ese|esa",
		cOld:          "viejo|vieja|antiguo|antigua|anterior",
		cMistake:      "por error|sin querer|equivoque|por equivocacion|me equivoque",
		cAgain:        "otra vez|de nuevo|nuevamente|volver a|vuelvan a|vuelva a|vuelve a|vuelvo a|volver",
		cFamily:       "hijo|hija|madre|mama|padre|papa|marido|mujer|esposa|esposo|hermano|hermana|nino|nina|novio|novia",
		cBe:           "ser|sido",
		cStop:         "dej* de|deja de|paren|paren de|pare de|parar de|para de|parar con|paren con|pare con|para con|cesen|cesar|stop|parad",
		cEnough:       "basta|ya basta",
		cFedUp:        "harto|harta|hartos|hartas|cansado de|cansada de",
		cSend:         "envi*|mand*|escrib*|contact*|spam*|molest*|llam*|escriban|reenvi*",
		cReceive:      "recib*|recibir|lleg*",
		cComms:        "mensaj*|msj|msg|sms|notificacion*|boletin*|newsletter|comunicacion*|whatsapp",
		cPromo:        "oferta*|promo*|publicidad|spam|novedad*|anuncio*|comercial*|marketing",
		cList:         "lista|listas|contactos|base|agenda|difusion|boletin|newsletter",
		cMList:        "difusion|boletin|newsletter|lista de difusion",
		cNumber:       "numero|contacto|telefono|movil|celular|numeros",
		cRemove:       "borr*|quit*|elimin*|sacar|saquen|sacarme|saquenme|saca|sacame|sacad|saque|suprim*|excluy*",
		cUnsub:        "desuscrib*|desuscripcion|desuscri*|desapunt*|darme de baja|dar de baja|denme de baja|den de baja|dame de baja|deme de baja|darnos de baja|me doy de baja|unsubscribe",
		cUnsubPast:    "desuscrito|desuscrita|di de baja|dio de baja|dado de baja|dimos de baja",
		cDeact:        "desactiv*|apag*",
		cCancel:       "cancel*|anul*",
		cSubscription: "suscripcion*|subscripcion*|inscripcion",
		cLeave:        "dej* ~paz|dej* ~tranquilo|dej* ~tranquila",
		cWait:         "espera",
		cPrint:        "impres*|paquete|caja|envoltorio",
		cContinue:     "segu*|sigan|sigue|continu*",
		cSub:          "suscrib*|subscrib*|apunt*|inscrib*|darme de alta|dar de alta|denme de alta|dame de alta|darme de alta|unirme",
		cResub:        "resuscrib*|vuelv* ~suscrib*|volver a suscrib*",
		cReact:        "reactiv*",
		cActivate:     "activ*",
		cAdd:          "agreg*|anad*|pon*|met*|inclu*|unir*|incorpor*",
		cPutBack:      "reincorpor*|reincluir",
		cReturn:       "volv*|vuelv*|regres*",
		cResume:       "retom*|reanud*|empez*|comenz*",
		cAgree:        "acept*|consient*|de acuerdo",
		cInformed:     "informad*|al tanto|al dia|enterar*",
		cOtherObj:     "cuenta|tarjeta|garantia|codigo|pedido|wifi|app|contrasena|curso|gimnasio|tratamiento|clases|cita|presupuesto",
		cMed:          "dolor*|duel*|duele|duelen|sangr*|hinch*|inflam*|absceso|pus|infeccion|infectad*|emergencia|urgencia|roto ~diente|diente ~roto|rompio ~diente|part* ~diente|me late|me duele",
		cFever:        "fiebre|calentura",
		cDental:       "diente*|muela*|encia*|boca|mandibula|cara|empaste|extraccion|implante|corona|endodoncia",
		cGone:         "paso|pasado|pasada|se fue|desaparec*|quito|mejor|se me paso|desaparecio|se quito",
		cProc:         "limpieza|blanqueamiento|implante|anestesia|extraccion|empaste|endodoncia|tratamiento|ortodoncia|brackets|pinchazo",
		cJudge:        "verguenza|vergonzos*|lamentable|pesim*|inaceptable|inadmisible|incompetente*|desastre|desastros*|chapuza*|chapucer*|estafa*|timo|ladrones|ridicul*|no es serio|nada serio|poco serio|impresentable|una broma|tomadura de pelo|queja|reclamacion|patetic*|fatal|penoso|decepcionad*|enfadad*|furios*|cabread*|indignad*|nada fiables|poco fiables|no me lo puedo creer|no puedo creerlo|es increible|me estan tomando el pelo",
		cRepeat:       "otra vez|de nuevo|segunda ~vez|tercera ~vez|cuarta ~vez|enesima ~vez|una vez mas|siempre|cada vez|nuevamente|no es la primera vez|por enesima|otro|otra",
		cFail:         "equivoc*|error*|cancel*|anul*|cambian|cambiaron|cambiado|olvid*|perdi*|rot*|rayad*|danad*|tarde|retras*|aparec*|no llego|nunca llego|no funciona|defectuos*|nadie contesta|incorrect*",
		cNever:        "nunca mas|nunca jamas|no vuelvo|no volvere",
		cWeather:      "tiempo|dia|lluvia|trafico|semana",
		cOtherShop:    "de al lado|al lado|otra tienda|competencia",
		cPraise:       "amable|simpatic*|genial|perfect*|gracias|buenisim*|serios|impecable|encantad*",
		cRefund:       "reembols*|devolucion del dinero|devolucion del importe",
		cMoney:        "dinero|senal|anticipo|importe|euros|pago|plata|pasta|fianza",
		cGiveBack:     "devuelv*|devolv*|devolucion|de vuelta|reintegr*|recuper*|deben",
		cReceived:     "llego|recibi|recibido|ingresad*|ya me|ya tengo|hicieron|hecho|ya lo",
		cThirdPayer:   "seguro|aseguradora|gastos|empresa|jefe|mutua",
		cLawyer:       "abogad*|letrado|letrada",
		cLegal:        "denunci*|demandar|demandarlos|demandarles|demandare|demandaremos|demando|demanda|demandas|demandaria|juzgado*|tribunal*|accion legal|acciones legales|via judicial|procedimiento judicial|judicial|burofax|ocu|consumo|hoja de reclamaciones|policia|guardia civil|juicio|pleito|facua",
		cCopula:       "soy|es|eres|somos|trabajo de|trabaja de",
		cWork:         "despacho|bufete|trabajo|trabaja|companeros|colegas|oficina",
		cRecommend:    "recomend*|aconsej*|sugiri*",
		cTax:          "renta|hacienda|impuestos|fiscal",
		cNear:         "cerca|junto|al lado|enfrente|zona",
		cInvoice:      "factura|recibo|a nombre",
		cTalk:         "habl*|llam*|contest*|respond*",
		cPerson:       "alguien|persona|humano|humana|agente|operador|operadora|encargado|encargada|responsable|doctor|doctora|dentista|asesor|asesora|gerente|jefe|dueno|duena|propietario|propietaria",
		cReal:         "real|de verdad|verdadera|verdadero",
		cRobot:        "bot|robot|contestador|automatico|maquina|ia|chatbot",
		cPass:         "pasen*|pasame|comuniqu*|transfier*",
		cPast:         "hable|hablamos|hablaron|llame|dijo|dijeron|contesto",
		cYesterday:    "ayer",
		cYou:          "eres|tu|usted|son",
		cKill:         "me esta matando|me mata|me matan",
		cAccompany:    "viene conmigo|vendra conmigo|me acompana|me acompanara",
		cThere:        "hay",
		cTimeUnit:     "semana|mes|ano|vez|noche|dia|finde|sabado|domingo|lunes|martes|miercoles|jueves|viernes",
		cIf:           "si|sino|de lo contrario",
	},
	"de": {
		cNeg:          "nicht|kein|keine|keinen|keinem|keiner|keines|ohne|nie|niemals|nichts|null|weder|niemand",
		cMore:         "mehr|weiter|weitere|weiteren|weiterer|+|wieder|andere",
		cMe:           "mich|mir|uns",
		cMy:           "mein|meine|meinen|meinem|meiner|meines|meins",
		cYour:         "euer|eure|euren|eurer|eurem|ihr|ihre|ihren|ihrer|ihrem",
		cI:            "ich",
		cAux1:         "habe|hab|hatte|bin",
		cWant:         "will|wollen|möchte|möchten|wünsche|wünschen|hätte gern|gern|gerne|würde|interessiert|sorgt dafür|sorgen sie dafür|bitte sorgt",
		cModal1:       "kann ich|könnte ich|darf ich|muss ich|ich kann|ich muss",
		cWhy:          "warum|wieso|weshalb|weswegen",
		cHow:          "wie",
		cDet:          "den|die|das|dem|der|diesen|diese|dieses|diesem|einen|eine|ein",
		cOld:          "alt|alte|alten|alter|altes|vorherige*|bisherige*",
		cMistake:      "aus versehen|versehentlich|vertan|irrtümlich|aus irrtum",
		cAgain:        "wieder|nochmal|erneut|noch mal|noch einmal",
		cFamily:       "sohn|tochter|mutter|mama|vater|papa|mann|frau|bruder|schwester|kind|kinder|freund|freundin",
		cBe:           "werden|worden",
		cStop:         "aufhör*|hör* ~auf|stopp*|stop|unterlass*|lasst das",
		cEnough:       "schluss|reicht|genug",
		cFedUp:        "nase voll|nerv*|genervt|satt",
		cSend:         "schick*|schreib*|send*|kontaktier*|spamm*|zuspamm*|zuzuspamm*|nerv*|belästig*|anschreib*|anruf*|ruf* ~an|zuschick*|zusend*|versand*",
		cReceive:      "bekomm*|erhalt*|kriegen|krieg*|empfang*|freu*|komm* ~an|ankomm*",
		cComms:        "nachricht*|*nachricht|*nachrichten|msg|sms|*benachrichtigung*|benachrichtigung*|newsletter|infos|whatsapp",
		cPromo:        "angebote|angeboten|*angebote|angebots*|aktion|aktionen|*aktionen|werbung|werbe*|*werbung|spam|neuigkeiten|marketing|newsletter",
		cList:         "liste|listen|*liste|verteiler|*verteiler|kontakte|kontakten|datenbank|newsletter|adressbuch|kartei",
		cMList:        "verteiler|*verteiler|newsletter|angebotsliste|*angebotsliste",
		cNumber:       "nummer|*nummer|kontakt|daten|nummern",
		cRemove:       "lösch*|entfern*|streich*|nehm* ~raus|nehm* ~runter|nehm* ~aus|nehm* ~von|raus|austrag*|trag* ~aus|rausnehm*|herausnehm*",
		cUnsub:        "abmeld*|abbestell*|austrag*|meld* ~ab|bestell* ~ab|kündig* ~abo|abo kündig*",
		cUnsubPast:    "abgemeldet|abbestellt|ausgetragen",
		cDeact:        "deaktivier*|abschalt*|ausschalt*|schalt* ~ab|schalt* ~aus|stell* ~ab",
		cCancel:       "kündig*|storn*|beend*",
		cSubscription: "abo|abonnement|*abo|anmeldung",
		cLeave:        "lass* ~ruhe|lasst ~ruhe",
		cWait:         "warteliste|*warteliste|warten",
		cPrint:        "gedruckt*|paket|verpackung|karton",
		cContinue:     "weiter|weiterhin|weiterschick*",
		cSub:          "meld* ~an|abonnier*|eintrag*|trag* ~ein|registrier*|anmelden|anmelde|anmeldet",
		cResub:        "wieder anmeld*|neu anmeld*|wieder abonnier*|reaktivier*",
		cReact:        "reaktivier*",
		cActivate:     "aktivier*|einschalt*|schalt* ~ein|anschalt*|anmach*",
		cAdd:          "hinzufüg*|aufnehm*|setz*|nehm* ~auf|füg* ~hinzu|trag* ~ein|aufgenommen|gesetzt|hinzugefügt",
		cPutBack:      "wieder aufnehm*|wieder hinzufüg*",
		cReturn:       "zurück|wieder",
		cResume:       "wieder aufnehm*|nehm* ~wieder|start*|fang* ~an|anfang*",
		cAgree:        "einverstanden|zustimm*|stimm* ~zu|akzeptier*",
		cInformed:     "informiert|auf dem laufenden|benachrichtigt",
		cOtherObj:     "konto|karte|kundenkarte|garantie|code|rabattcode|bestellung|wlan|wifi|app|passwort|kurs|fitnessstudio|behandlung|abendkurs|termin|angebot",
		cMed:          "*schmerz*|schmerz*|tut ~weh|tun ~weh|blut*|geschwoll*|*schwollen|schwell*|*schwellung|abszess|eiter|entzünd*|infektion|notfall|pocht|pochend|zahn ~abgebroch*|abgebroch* ~zahn|*zahn ~abgebroch*",
		cFever:        "fieber",
		cDental:       "zahn|zähne|*zahn|zahnfleisch|backe|wange|mund|kiefer|füllung|implantat|krone|wurzel*|gesicht*",
		cGone:         "weg|vorbei|verschwunden|besser|schmerzfrei|schmerzlos|nicht mehr da|abgeklungen|nachgelassen",
		cProc:         "zahnreinigung|reinigung|bleaching|implantat|betäubung|spritze|ziehen|füllung|wurzelbehandlung|behandlung|zahnspange|prophylaxe",
		cJudge:        "frechheit|unverschämt*|unfähig*|unterirdisch*|miserab*|inakzeptabel|katastroph*|saftladen|sauladen|was für ein laden|was ist das für ein laden|witz|unseriös*|unzuverlässig*|verarsch*|betrug|betrüger|abzocke|zumutung|skandal*|schlechteste*|peinlich|lächerlich|beschwerde|reklamation|schande|mies*|furchtbar|schrecklich|so geht das nicht|geht gar nicht|enttäusch*|wütend|sauer|stinksauer|verärgert|empört|ich fass es nicht|das gibt es doch nicht|unglaublich|wollt ihr mich veraschen",
		cRepeat:       "schon wieder|wieder mal|zweite ~mal|zweiten ~mal|dritte ~mal|dritten ~mal|x ten ~mal|zigste ~mal|jedes mal|immer|erneut|nochmal|nicht das erste mal|wieder|noch ein|noch eine|schon wieder",
		cFail:         "falsch*|fehler*|abgesagt|absag*|verschob*|verschieb*|vergess*|verlor*|kaputt|beschädigt|zerkratzt|zerrissen|zu spät|spät|verspät*|nicht gekommen|nie angekommen|nicht angekommen|funktioniert nicht|defekt*|keiner geht ran|niemand antwortet|keiner geht ans telefon|geht keiner ans telefon",
		cNever:        "nie wieder|nie mehr|nimmer",
		cWeather:      "wetter|tag|regen|verkehr|woche",
		cOtherShop:    "nebenan|anderen laden|anderer laden|konkurrenz",
		cPraise:       "nett|freundlich|super|perfekt|toll|danke|zuverlässig|lob|klasse|top",
		cRefund:       "erstatt*|rückerstatt*|*erstattung|geld zurück|zurücküberweis*|zurückzahl*|rückzahlung",
		cMoney:        "geld|anzahlung|betrag|euro|zahlung|kohle|kaution",
		cGiveBack:     "zurück|zurückgeb*|zurückzahl*|zurücküberweis*|wiederhaben|schuld*",
		cReceived:     "angekommen|erhalten|bekommen|ist da|hab ich schon|gutgeschrieben|schon|gemacht|erledigt",
		cThirdPayer:   "versicherung|krankenkasse|kasse|arbeitgeber|spesen|firma|reisekosten*|*abrechnung",
		cLawyer:       "anwalt|anwältin|*anwalt|*anwältin|anwälte|anwälten",
		cLegal:        "anzeige erstatten|erstatte anzeige|anzeige machen|anzeige gegen|zeig* ~an|verklag*|klage|klagen|gericht|gerichtlich*|amtsgericht|rechtliche schritte|rechtsstreit|verbraucherzentrale|polizei|schlichtungsstelle",
		cCopula:       "bin|ist|bist|sind|arbeite als",
		cWork:         "kanzlei|*kanzlei|arbeite|arbeitet|kollegen|büro",
		cRecommend:    "empfohl*|empfehl*|geraten",
		cTax:          "steuer*|finanzamt|steuererklärung",
		cNear:         "nähe|neben|gegenüber|gegend",
		cInvoice:      "rechnung|quittung",
		cTalk:         "sprech*|sprich|red*|anruf*|ruf* ~an|antwort*|telefonier*",
		cPerson:       "jemand|jemanden|jemandem|person|mensch|menschen|mitarbeiter*|chef|chefin|arzt|ärztin|zahnarzt|zahnärztin|verantwortlich*|vorgesetzt*|berater*|sachbearbeiter*|jemanden echtes|inhaber|inhaberin|besitzer|geschäftsführer|leiter|leiterin",
		cReal:         "echt|echte|echter|echten|echtes|richtig*|menschlich*",
		cRobot:        "bot|roboter|automat|automaten|maschine|ki|chatbot",
		cPass:         "verbind*|weiterleit*|durchstell*|stell* ~durch",
		cPast:         "gesprochen|geredet|telefoniert|angerufen|gesagt|meinte",
		cYesterday:    "gestern",
		cYou:          "du|bist|sind sie",
		cKill:         "bringt mich um|bringen mich um|bringt mich noch um",
		cAccompany:    "kommt mit|begleitet mich|mitkommen|kommt mit zum",
		cThere:        "gibt es|ist da|ist hier|gibt s",
		cTimeUnit:     "woche|monat|jahr|mal|nacht|tag|wochenende|samstag|sonntag|montag|dienstag|mittwoch|donnerstag|freitag",
		cIf:           "wenn|falls|sonst",
	},
}

// pattern matches one word.
type pattern struct {
	s    string
	kind uint8 // exact, prefix, suffix, infix
}

const (
	pExact uint8 = iota
	pPrefix
	pSuffix
	pInfix
)

func (p pattern) match(w string) bool {
	switch p.kind {
	case pPrefix:
		return strings.HasPrefix(w, p.s)
	case pSuffix:
		return strings.HasSuffix(w, p.s) && len(w) > len(p.s)
	case pInfix:
		return strings.Contains(w, p.s) && len(w) > len(p.s)
	}
	return w == p.s
}

func parsePattern(s string) pattern {
	switch {
	case len(s) > 2 && s[0] == '*' && s[len(s)-1] == '*':
		return pattern{s[1 : len(s)-1], pInfix}
	case len(s) > 1 && s[0] == '*':
		return pattern{s[1:], pSuffix}
	case len(s) > 1 && s[len(s)-1] == '*':
		return pattern{s[:len(s)-1], pPrefix}
	}
	return pattern{s, pExact}
}

// term is one entry of a lexicon: a word or a sequence, perhaps with a
// particle later in the sentence, and the concepts it stands for.
type term struct {
	words    []pattern
	particle *pattern
	concepts cset
}

// lexicon finds the terms that start at a word.
type lexicon struct {
	exact  map[string][]*term
	prefix map[string][]*term // by the first two letters of the prefix
	affix  []*term            // suffixes and parts of words, and prefixes of one letter
}

// particleReach is how far after its verb a separable particle may stand
// ("meldet mich bitte von eurem Newsletter ab").
const particleReach = 8

func (x *lexicon) add(t *term) {
	first := t.words[0]
	switch {
	case first.kind == pExact:
		x.exact[first.s] = append(x.exact[first.s], t)
	case first.kind == pPrefix && len(first.s) >= 2:
		x.prefix[first.s[:2]] = append(x.prefix[first.s[:2]], t)
	default:
		x.affix = append(x.affix, t)
	}
}

// germanVariants gives a German word as customers type it: with the
// umlaut folded (ö → o) and spelled out (ö → oe).
func germanVariants(s string) []string {
	if !strings.ContainsAny(s, "äöü") {
		return []string{s}
	}
	r := strings.NewReplacer("ä", "ae", "ö", "oe", "ü", "ue")
	return []string{fold(s), r.Replace(s)}
}

// compileLexicon prepares the words of one language; extra adds words to
// concepts (the owner's negations).
func compileLexicon(lang string, extra map[concept][]string) *lexicon {
	x := &lexicon{exact: map[string][]*term{}, prefix: map[string][]*term{}}
	addTerm := func(c concept, raw string) {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			return
		}
		variants := []string{raw}
		if lang == "de" {
			variants = germanVariants(raw)
		}
		for _, v := range variants {
			t := &term{concepts: set(c)}
			for _, w := range strings.Fields(v) {
				if p, ok := strings.CutPrefix(w, "~"); ok {
					pp := parsePattern(p)
					t.particle = &pp
					continue
				}
				t.words = append(t.words, parsePattern(w))
			}
			if len(t.words) > 0 {
				x.add(t)
			}
		}
	}
	for c, words := range lexicons[lang] {
		for _, w := range strings.Split(words, "|") {
			addTerm(c, w)
		}
	}
	for c, words := range extra {
		for _, w := range words {
			addTerm(c, fold(w))
		}
	}
	return x
}

// builtin are the lexicons compiled once.
var builtin = func() map[string]*lexicon {
	m := map[string]*lexicon{}
	for _, l := range Langs {
		m[l] = compileLexicon(l, nil)
	}
	return m
}()

// encliticMe reports whether an Italian or Spanish word is a verb with
// "me" attached: "toglietemi", "cancellami", "mandarmi", "bórrenme",
// "enviarme". The verb part must end as an infinitive, an imperative or a
// gerund does, so that "nomi" or "informe" are not taken apart.
func encliticMe(w, lang string) (verb string, ok bool) {
	switch lang {
	case "it":
		for _, suf := range []string{"mi", "ci", "melo", "mela", "meli", "mele", "mene", "celo", "cela"} {
			base, found := strings.CutSuffix(w, suf)
			if !found || len(base) < 4 {
				continue
			}
			for _, end := range []string{"ar", "er", "ir", "ate", "ete", "ite", "ando", "endo", "a", "i"} {
				if strings.HasSuffix(base, end) {
					return base, true
				}
			}
		}
	case "es":
		for _, suf := range []string{"me", "nos", "melo", "mela", "melos", "melas", "noslo", "nosla"} {
			base, found := strings.CutSuffix(w, suf)
			if !found || len(base) < 4 {
				continue
			}
			for _, end := range []string{"ar", "er", "ir", "ndo", "en", "an", "a", "e"} {
				if strings.HasSuffix(base, end) {
					return base, true
				}
			}
		}
	}
	return "", false
}

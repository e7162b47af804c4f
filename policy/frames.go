package policy

import "strings"

// A frame is a built-in rule: concepts that must all be present in one
// sentence, close to each other, in any order. "smettetela di mandarmi
// messaggi", "stop sending me messages" and "hört auf, mir Nachrichten zu
// schicken" are one frame: stop + send + me. Each frame also says what
// cancels it: a negation ("non smettete di scrivermi"), or words that show
// another meaning ("cancellate il mio numero vecchio e usate questo").
type frame struct {
	langs  string // the languages it is for, if not all
	label  string // opt_out, opt_in or a category
	name   string // what the panel shows as the rule that fired
	slots  []cset // each needs a word with one of its concepts
	window int    // the slots lie within this many words
	clause bool   // all slots in one clause
	// negOK: a negation is part of the meaning ("non voglio più
	// ricevere", "è la terza volta che non arriva").
	negOK bool
	// check returns why the words found do not count, or "".
	check func(v *view, at []int) string
}

// Reasons a match does not count, as Match.Reason gives them.
const (
	reasonNegated      = "negated"            // "non smettete di scrivermi"
	reasonWhy          = "why_question"       // "perché non mi mandate più le offerte?"
	reasonMistake      = "by_mistake"         // "ho scritto stop per sbaglio"
	reasonSelf         = "customer_does_it"   // "ho smesso di fumare", "j'ai supprimé le message"
	reasonOld          = "old_number"         // "cancellate il numero vecchio"
	reasonWaiting      = "waiting_list"       // "toglietemi dalla lista d'attesa"
	reasonObject       = "other_object"       // "toglietemi questo dente", "riattivare la garanzia"
	reasonPrint        = "printed"            // "non voglio la pubblicità stampata sul pacco"
	reasonContinue     = "already_receiving"  // "continuate a mandarmi le offerte"
	reasonStop         = "stop_request"       // "non smettete di mandarmi le offerte"
	reasonSufficient   = "sufficient"         // "basta un messaggio per prenotare"
	reasonGone         = "gone"               // "il dolore è passato"
	reasonTreatment    = "treatment_question" // "la pulizia fa male?"
	reasonSomeoneElse  = "someone_else"       // "mio figlio ha la febbre, possiamo spostare?"
	reasonWeather      = "weather"            // "pessimo tempo oggi"
	reasonOtherShop    = "other_shop"         // "il negozio accanto è pessimo"
	reasonPain         = "describes_pain"     // "a terrible toothache"
	reasonReceived     = "already_received"   // "il rimborso è arrivato"
	reasonThirdPayer   = "third_payer"        // "la mia assicurazione rimborsa?"
	reasonProfession   = "profession"         // "sono avvocato"
	reasonWorkplace    = "workplace"          // "lavoro in tribunale"
	reasonRecommend    = "recommendation"     // "il mio avvocato mi ha consigliato voi"
	reasonTax          = "tax"                // "la denuncia dei redditi"
	reasonPlace        = "place"              // "vicino al tribunale"
	reasonInvoice      = "invoice"            // "fattura intestata allo studio legale"
	reasonAnotherParty = "another_party"      // "una causa con il vecchio dentista"
	reasonReported     = "reported"           // "ho parlato con il dottore ieri"
)

// Reasons are the reasons a match may not count, as Match.Reason gives them.
var Reasons = []string{reasonNegated, reasonWhy, reasonMistake, reasonSelf, reasonOld, reasonWaiting, reasonObject,
	reasonPrint, reasonContinue, reasonStop, reasonSufficient, reasonGone, reasonTreatment, reasonSomeoneElse,
	reasonWeather, reasonOtherShop, reasonPain, reasonReceived, reasonThirdPayer, reasonProfession, reasonWorkplace,
	reasonRecommend, reasonTax, reasonPlace, reasonInvoice, reasonAnotherParty, reasonReported}

var (
	comms     = set(cComms, cPromo)
	targets   = set(cMe, cComms, cPromo, cNumber)
	listLike  = set(cList, cMList, cNumber)
	selfDoing = set(cI, cAux1, cModal1)
)

// selfBefore: the customer is the one doing it ("ho cancellato", "I
// stopped", "j'ai supprimé", "posso spostare"): the verb is in the first
// person, or right after "I", "I have", "can I", give or take a pronoun or
// an adverb ("je me suis désabonné", "I just deleted").
func selfBefore(v *view, i int) bool {
	if v.cs[i].has(cSelf) {
		return true
	}
	if v.lang == "de" && v.before(set(cAux1), i, 8) && (strings.HasSuffix(v.toks[i].word, "t") || strings.Contains(v.toks[i].word, "ge")) {
		return true // "ich habe die Benachrichtigungen aktiviert": the verb comes last
	}
	return v.lookBack(i,
		func(j int) bool { return v.cs[j].any(selfDoing) },
		func(j int) bool { return smallWords[v.toks[j].word] })
}

// pastBefore: the customer did it already ("ho disdetto", "I have
// unsubscribed", "je me suis désabonné"), as opposed to doing it now ("je
// résilie mon abonnement", "disdico l'iscrizione").
func pastBefore(v *view, i int) bool {
	return v.lookBack(i,
		func(j int) bool { return v.ctx[j].has(cAux1) },
		func(int) bool { return true })
}

// lookBack looks at the three words before word i within its clause, nearest
// first: true at the first that hits, false at the first that neither hits
// nor may stand in between.
func (v *view) lookBack(i int, hit, between func(j int) bool) bool {
	for j := i - 1; j >= 0 && j >= i-3; j-- {
		if v.toks[j].clause != v.toks[i].clause {
			return false
		}
		if hit(j) {
			return true
		}
		if !between(j) {
			return false
		}
	}
	return false
}

// smallWords may stand between a subject and its verb.
var smallWords = map[string]bool{"me": true, "m": true, "mi": true, "l": true, "lo": true, "la": true, "le": true,
	"ne": true, "se": true, "si": true, "y": true, "en": true, "ti": true, "te": true, "ci": true, "vi": true,
	"just": true, "already": true, "gia": true, "deja": true, "ya": true, "schon": true, "also": true, "have": true,
	"ve": true, "mich": true, "sono": true, "suis": true, "ho": true, "ai": true, "he": true, "encore": true,
	"ancora": true, "again": true, "still": true, "wieder": true, "nochmal": true}

// directObject: a thing follows the verb and its "me" ("toglietemi il
// dente", "retirez-moi cette dent", "nehmt mir diesen Zahn raus").
func directObject(v *view, at []int) bool {
	last := at[0]
	for _, i := range at {
		last = max(last, i)
	}
	return v.after(set(cDet), last, 2) && !v.after(set(cList, cMList, cNumber, cComms, cPromo, cSubscription), last, 4)
}

// sufficient: "basta" followed by what suffices ("basta un messaggio",
// "basta che mi dite l'orario", "basta così").
func sufficient(v *view, i int) bool {
	if v.toks[i].word != "basta" || i+1 >= len(v.toks) {
		return false
	}
	switch v.toks[i+1].word {
	case "un", "una", "uno", "che", "poco", "cosi", "solo", "questo", "avere", "con", "mandare", "scrivere":
		return v.toks[i+1].word != "con" || v.after(set(cDet), i+1, 1) && !v.after(comms, i+1, 3)
	}
	return false
}

var frames = []frame{
	// Opt-out.
	{label: KindOptOut, name: "unsubscribe", slots: []cset{set(cUnsub)}, window: 0,
		check: func(v *view, at []int) string {
			if v.cs[at[0]].has(cUnsubPast) && !v.inClause(set(cWant), at[0]) {
				return reasonSelf // "mi sono disiscritto dalla palestra"
			}
			if v.inSentence(set(cOtherObj), at[0]) && !v.inSentence(set(cComms, cPromo, cList, cMList), at[0]) {
				return reasonObject // "je me désinscris de la salle de sport"
			}
			if pastBefore(v, at[0]) && !v.inClause(set(cWant), at[0]) {
				return reasonSelf
			}
			return ""
		}},
	{label: KindOptOut, name: "want + unsubscribed", slots: []cset{set(cUnsubPast), set(cWant)}, window: 6},
	{label: KindOptOut, name: "stop + send + me/messages", slots: []cset{set(cStop, cEnough), set(cSend), targets},
		window: 8, check: func(v *view, at []int) string {
			switch {
			case selfBefore(v, at[0]):
				return reasonSelf
			case sufficient(v, at[0]):
				return reasonSufficient
			}
			return ""
		}},
	{label: KindOptOut, name: "stop + messages", slots: []cset{set(cStop, cEnough), comms}, window: 4,
		check: func(v *view, at []int) string {
			switch {
			case selfBefore(v, at[0]):
				return reasonSelf
			case sufficient(v, at[0]):
				return reasonSufficient
			}
			return ""
		}},
	{label: KindOptOut, name: "fed up + messages", slots: []cset{set(cFedUp), comms}, window: 8, negOK: true},
	{label: KindOptOut, name: "don't + send + me + messages", slots: []cset{set(cNeg), set(cSend), comms}, window: 6,
		clause: true, negOK: true, check: func(v *view, at []int) string {
			if keepSending(v, at) {
				return reasonContinue
			}
			switch {
			case !v.inClause(set(cMe), at[1]):
				return reasonObject
			case selfBefore(v, at[1]):
				return reasonSelf
			case v.inSentence(set(cPrint), at[0]):
				return reasonPrint
			}
			return ""
		}},
	{label: KindOptOut, name: "no + want + messages", slots: []cset{set(cNeg), set(cWant), comms}, window: 8,
		clause: true, negOK: true, check: func(v *view, at []int) string {
			if keepSending(v, at) {
				return reasonContinue
			}
			if v.inSentence(set(cPrint), at[0]) {
				return reasonPrint
			}
			return ""
		}},
	{label: KindOptOut, name: "no + want + more + receive", slots: []cset{set(cNeg), set(cMore), set(cReceive, cInformed)},
		window: 6, clause: true, negOK: true, check: func(v *view, at []int) string {
			if !v.inClause(set(cWant), at[2]) {
				return reasonSelf // "non ricevo più le notifiche": a statement
			}
			return ""
		}},
	{langs: "fr", label: KindOptOut, name: "want + no more", slots: []cset{set(cWant), set(cMore), set(cReceive, cComms, cPromo, cBe)},
		window: 4, clause: true, negOK: true, check: func(v *view, at []int) string {
			// Spoken French drops the "ne": "je veux plus recevoir".
			p := at[1]
			if p != at[0]+1 || v.toks[p].word != "plus" {
				return reasonObject
			}
			if p+1 < len(v.toks) && v.toks[p+1].word == "de" && !v.has(p+2, comms) && !v.has(p+3, comms) {
				return reasonObject // "je veux plus de renseignements"
			}
			return ""
		}},
	{langs: "fr", label: KindOptOut, name: "send me + no more", slots: []cset{set(cSend), set(cMore)}, window: 1,
		clause: true, check: func(v *view, at []int) string {
			// Spoken French drops the "ne": "m'envoyez plus rien".
			if at[1] != at[0]+1 || v.toks[at[1]].word != "plus" || !v.has(at[0]-1, set(cMe)) || v.question(at[0]) {
				return reasonObject
			}
			return ""
		}},
	{label: KindOptOut, name: "no + want + be contacted", slots: []cset{set(cNeg), set(cWant), set(cSend)},
		window: 8, clause: true, negOK: true, check: func(v *view, at []int) string {
			if !v.inClause(set(cMe, cBe), at[2]) {
				return reasonSelf // "non voglio disturbare"
			}
			return ""
		}},
	{label: KindOptOut, name: "no more + send + me/messages", slots: []cset{set(cNeg), set(cSend), set(cMore)},
		window: 6, clause: true, negOK: true, check: func(v *view, at []int) string {
			if keepSending(v, at) {
				return reasonContinue
			}
			if !v.inClause(targets, at[1]) {
				return reasonObject
			}
			if selfBefore(v, at[1]) {
				return reasonSelf
			}
			return ""
		}},
	{label: KindOptOut, name: "no more + messages", slots: []cset{set(cNeg), set(cMore), comms}, window: 4,
		clause: true, negOK: true, check: func(v *view, at []int) string {
			if keepSending(v, at) {
				return reasonContinue
			}
			switch {
			case v.question(at[0]):
				return reasonWhy
			case v.inClause(set(cReceive, cSend, cAux1), at[0]):
				return reasonSelf // "non ho ricevuto più messaggi": other frames judge verbs
			case v.inSentence(set(cPrint), at[0]):
				return reasonPrint
			}
			return ""
		}},
	{label: KindOptOut, name: "no + ads", slots: []cset{set(cNeg), set(cPromo)}, window: 2, clause: true, negOK: true,
		check: func(v *view, at []int) string {
			if v.question(at[0]) || !v.short(at[0], 4) || v.inSentence(set(cPrint), at[0]) {
				return reasonObject
			}
			return ""
		}},
	{langs: "fr", label: KindOptOut, name: "no more + messages", slots: []cset{set(cMore), comms}, window: 2, clause: true,
		check: func(v *view, at []int) string {
			// "plus de messages svp", "+ de pub"
			if v.toks[at[0]].word != "plus" && v.toks[at[0]].word != "+" || v.question(at[0]) || !v.short(at[0], 4) {
				return reasonObject
			}
			return ""
		}},
	{label: KindOptOut, name: "remove + list/number", slots: []cset{set(cRemove), listLike}, window: 8,
		check: func(v *view, at []int) string {
			switch {
			case v.inSentence(set(cOld), at[0]):
				return reasonOld
			case v.inSentence(set(cWait), at[0]):
				return reasonWaiting
			case selfBefore(v, at[0]):
				return reasonSelf
			}
			return ""
		}},
	{label: KindOptOut, name: "remove + me", slots: []cset{set(cRemove), set(cMe)}, window: 3,
		check: func(v *view, at []int) string {
			switch {
			case v.lang == "de" && v.toks[at[1]].word == "mir":
				return reasonObject // "nehmt mir den Zahn raus"
			case directObject(v, at):
				return reasonObject
			case v.inSentence(set(cOld), at[0]):
				return reasonOld
			case v.inSentence(set(cWait), at[0]):
				return reasonWaiting
			case selfBefore(v, at[0]):
				return reasonSelf
			}
			return ""
		}},
	{label: KindOptOut, name: "deactivate + messages", slots: []cset{set(cDeact), comms}, window: 6,
		check: func(v *view, at []int) string {
			if selfBefore(v, at[0]) {
				return reasonSelf
			}
			return ""
		}},
	{label: KindOptOut, name: "cancel + subscription", slots: []cset{set(cCancel), set(cSubscription)}, window: 5,
		check: func(v *view, at []int) string {
			switch {
			case pastBefore(v, at[0]):
				return reasonSelf
			case v.inSentence(set(cOtherObj), at[0]):
				return reasonObject
			}
			return ""
		}},
	{label: KindOptOut, name: "leave me alone", slots: []cset{set(cLeave)}},

	// Re-subscribe.
	{label: KindOptIn, name: "resubscribe", slots: []cset{set(cResub)}, check: otherThanMarketing},
	{label: KindOptIn, name: "subscribe + again", slots: []cset{set(cSub), set(cAgain, cReturn)}, window: 6,
		check: otherThanMarketing},
	{label: KindOptIn, name: "subscribe + messages", slots: []cset{set(cSub), set(cComms, cPromo, cMList)}, window: 8,
		check: func(v *view, at []int) string {
			if r := otherThanMarketing(v, at); r != "" {
				return r
			}
			if v.before(set(cAux1), at[0], 3) {
				return reasonSelf
			}
			return ""
		}},
	{label: KindOptIn, name: "want + receive + messages", slots: []cset{set(cWant, cAgree), set(cReceive, cInformed), comms},
		window: 8, check: func(v *view, at []int) string {
			r := at[1]
			for _, j := range []int{r - 1, r + 1} {
				if j >= 0 && j < len(v.toks) && still[v.toks[j].word] {
					return reasonContinue // "vorrei ricevere ancora le vostre offerte"
				}
			}
			return ""
		}},
	{label: KindOptIn, name: "send + me + messages", slots: []cset{set(cSend), set(cMe), comms}, window: 6, clause: true,
		check: func(v *view, at []int) string {
			switch {
			case v.inClause(set(cStop, cEnough), at[0]):
				return reasonStop
			case selfBefore(v, at[0]):
				return reasonSelf
			}
			return ""
		}},
	{label: KindOptIn, name: "put back + list", slots: []cset{set(cPutBack), set(cList, cMList)}, window: 8,
		check: otherThanMarketing},
	{label: KindOptIn, name: "add + again + list", slots: []cset{set(cAdd, cSub, cReturn), set(cAgain), set(cList, cMList)},
		window: 8, check: otherThanMarketing},
	{label: KindOptIn, name: "want + messages again", slots: []cset{set(cWant), comms}, window: 6, clause: true,
		check: func(v *view, at []int) string {
			switch {
			case !v.inClause(set(cAgain, cYour), at[0]) || v.inClause(set(cReceive, cInformed), at[0]):
				return reasonObject // with "receive", the frame above judges
			case at[0]+1 < len(v.toks) && v.toks[at[0]+1].word == "plus":
				return reasonStop // "je veux plus de vos messages"
			}
			return otherThanMarketing(v, at)
		}},
	{label: KindOptIn, name: "add + offers list", slots: []cset{set(cAdd, cSub, cPutBack), set(cList, cMList)}, window: 6,
		check: func(v *view, at []int) string {
			if !v.has(at[1], set(cMList)) && !v.near(comms, at[1], at[1], 3) {
				return reasonObject // "mettetemi in lista d'attesa", a price list
			}
			if !v.inClause(set(cMe, cWant, cBe), at[0]) {
				return reasonObject
			}
			return otherThanMarketing(v, at)
		}},
	{label: KindOptIn, name: "want + into the list", slots: []cset{set(cWant), set(cMList)}, window: 5,
		check: func(v *view, at []int) string {
			if v.inClause(set(cRemove, cNeg, cUnsub), at[0]) {
				return reasonObject
			}
			return otherThanMarketing(v, at)
		}},
	{label: KindOptIn, name: "want + back on the list", slots: []cset{set(cReturn), set(cList, cMList)}, window: 6,
		check: func(v *view, at []int) string {
			if !v.inClause(set(cWant), at[0]) {
				return reasonObject
			}
			return otherThanMarketing(v, at)
		}},
	{label: KindOptIn, name: "resume + messages", slots: []cset{set(cResume, cReact, cActivate), set(cComms, cPromo, cSend, cSubscription)},
		window: 8, check: func(v *view, at []int) string {
			if v.cs[at[0]].has(cResume) && !v.cs[at[0]].any(set(cReact, cActivate)) &&
				!v.inClause(set(cComms, cSend, cMe), at[0]) {
				return reasonObject // "quando ricomincia la promo?"
			}
			if v.before(set(cCopula, cContinue), at[0], 2) {
				return reasonObject // "la promo è ancora attiva?": a state, not a request
			}
			if v.question(at[0]) && v.inSentence(set(cHow), at[0]) {
				return reasonObject // "come riattivo…?"
			}
			if selfBefore(v, at[0]) {
				return reasonSelf
			}
			return otherThanMarketing(v, at)
		}},
	{label: KindOptIn, name: "reactivate + me", slots: []cset{set(cReact, cActivate), set(cMe)}, window: 3,
		check: func(v *view, at []int) string {
			if !v.cs[at[0]].has(cReact) && !v.inClause(set(cAgain), at[0]) {
				return reasonObject
			}
			if directObject(v, at) {
				return reasonObject
			}
			return otherThanMarketing(v, at)
		}},

	// Escalation.
	{label: Medical, name: "pain, bleeding, swelling…", slots: []cset{set(cMed)}},
	{label: Medical, name: "killing me + tooth", slots: []cset{set(cKill), set(cDental)}, window: 8},
	{label: Medical, name: "fever", slots: []cset{set(cFever)}, check: func(v *view, at []int) string {
		if v.inSentence(set(cFamily), at[0]) && !v.inSentence(set(cDental), at[0]) {
			return reasonSomeoneElse
		}
		return ""
	}},
	{label: Complaint, name: "judgement of the service", slots: []cset{set(cJudge)}},
	{label: Complaint, name: "repeated failure", slots: []cset{set(cRepeat), set(cFail)}, window: 10, negOK: true,
		check: func(v *view, at []int) string {
			if selfBefore(v, at[1]) || v.inClause(set(cI), at[1]) && !v.inClause(set(cYou, cYour), at[1]) {
				return reasonSelf // "posso spostare di nuovo l'appuntamento?", "I got the time wrong again"
			}
			return ""
		}},
	{label: Complaint, name: "never again", slots: []cset{set(cNever)}, negOK: true, check: func(v *view, at []int) string {
		switch {
		case v.inSentence(set(cMed, cFever), at[0]):
			return reasonGone
		case v.inClause(set(cSend, cReceive, cComms, cPromo), at[0]):
			return reasonStop // "non scrivetemi mai più" is an opt-out
		}
		return ""
	}},
	{label: Refund, name: "refund", slots: []cset{set(cRefund)}},
	{label: Refund, name: "money + give back", slots: []cset{set(cMoney), set(cGiveBack)}, window: 8},
	{label: Refund, name: "my money", slots: []cset{set(cMy), set(cMoney)}, window: 1, check: func(v *view, at []int) string {
		if !v.question(at[0]) && !v.inClause(set(cWant, cReceive), at[0]) {
			return reasonObject
		}
		return ""
	}},
	{label: Legal, name: "legal action", slots: []cset{set(cLegal)}},
	{label: Legal, name: "lawyer", slots: []cset{set(cLawyer)}},
	{label: Human, name: "talk + person", slots: []cset{set(cTalk), set(cPerson, cReal)}, window: 6,
		check: func(v *view, at []int) string {
			if v.cs[at[0]].has(cPast) || v.before(set(cAux1), at[0], 2) {
				return reasonReported
			}
			return ""
		}},
	{label: Human, name: "is there a person?", slots: []cset{set(cThere), set(cPerson, cReal)}, window: 4,
		check: func(v *view, at []int) string {
			if !v.question(at[0]) {
				return reasonObject
			}
			return ""
		}},
	{label: Human, name: "want + a person", slots: []cset{set(cWant), set(cPerson)}, window: 3, clause: true,
		check: func(v *view, at []int) string {
			for j := at[0] + 1; j < at[1]; j++ {
				if !v.ctx[j].has(cDet) {
					return reasonObject // "voglio un tavolo per una persona"
				}
			}
			return ""
		}},
	{label: Human, name: "put me through", slots: []cset{set(cPass), set(cPerson, cMe)}, window: 4},
	{label: Human, name: "not a robot", slots: []cset{set(cNeg), set(cTalk), set(cRobot)}, window: 6, negOK: true},
	{label: Human, name: "a real person", slots: []cset{set(cReal), set(cPerson)}, window: 3},
	{label: Human, name: "are you a bot?", slots: []cset{set(cRobot), set(cYou)}, window: 4, check: func(v *view, at []int) string {
		if !v.question(at[0]) {
			return reasonObject
		}
		return ""
	}},
}

// keepSending: the negation is of "stop" ("non smettete di scrivermi le
// offerte", "don't stop sending me the deals"): the customer wants more.
func keepSending(v *view, at []int) bool { return v.inClause(set(cStop), at[0]) }

// still: "ancora", "encore", "still" next to "receive" is about going on.
var still = map[string]bool{"ancora": true, "encore": true, "still": true, "todavia": true, "noch": true, "weiter": true,
	"seguir": true, "continuare": true, "continuer": true}

// otherThanMarketing: the words are about something else ("riattivare la
// garanzia", "iscrivere mia figlia", "la lista d'attesa").
func otherThanMarketing(v *view, at []int) string {
	switch {
	case v.inSentence(set(cWait), at[0]):
		return reasonWaiting
	case v.inSentence(set(cOtherObj, cFamily), at[0]) && !v.inSentence(set(cComms, cPromo, cMList), at[0]):
		return reasonObject
	case v.inClause(set(cContinue), at[0]):
		return reasonContinue
	case v.inClause(set(cCancel, cUnsub, cRemove, cDeact), at[0]):
		return reasonStop // "disdico l'iscrizione alla newsletter"
	}
	return ""
}

// guard returns why a match of label on words lo..hi does not count, for
// the owner's phrases and the frames alike, or "".
func guard(label string, v *view, lo, hi int) string {
	switch label {
	case KindOptOut:
		switch {
		case v.question(lo) && v.inSentence(set(cWhy), lo):
			return reasonWhy
		case v.inSentence(set(cMistake), lo):
			return reasonMistake
		case v.in(set(cUnsubPast), lo, hi, lo) && !v.inClause(set(cWant), lo):
			return reasonSelf // "I unsubscribed from the gym"
		case v.ctx[hi].has(cRemove) && directObject(v, []int{hi}):
			return reasonObject // "potete togliermi un dubbio?"
		}
	case KindOptIn:
		switch {
		case wantNoMore(v, lo):
			return reasonNegated // "je veux plus recevoir vos promos"
		case v.inClause(set(cContinue), lo):
			return reasonContinue
		case v.inSentence(set(cWait), lo):
			return reasonWaiting
		}
	case Medical:
		switch {
		case goneInClause(v, lo, hi):
			return reasonGone
		case v.in(set(cFever), lo, hi, lo) && v.inSentence(set(cFamily), lo) && !v.inSentence(set(cDental), lo):
			return reasonSomeoneElse // "mia mamma ha la febbre, vengo da sola"
		case v.question(lo) && v.inSentence(set(cProc), lo) && !v.firstPerson(lo):
			return reasonTreatment
		}
	case Complaint:
		switch {
		case v.near(set(cWeather), lo, hi, 3):
			return reasonWeather
		case v.inSentence(set(cOtherShop), lo):
			return reasonOtherShop
		case !v.ctx[lo].has(cRepeat) && v.inClause(set(cFamily), lo):
			return reasonSomeoneElse
		case !v.ctx[lo].has(cRepeat) && v.near(set(cMed, cDental), lo, hi, 2):
			return reasonPain
		}
	case Refund:
		switch {
		case v.ctx[lo].has(cLegal):
			return reasonObject // "ich erstatte Anzeige"
		case v.near(set(cReceived), lo, hi, 5) && v.negation(max(0, lo-5), hi) < 0:
			return reasonReceived
		case v.inSentence(set(cThirdPayer), lo):
			return reasonThirdPayer
		}
	case Legal:
		switch {
		case copulaBefore(v, lo):
			return reasonProfession
		case v.near(set(cWork), lo, hi, 3) || v.cs[lo].has(cWork):
			return reasonWorkplace
		case v.inSentence(set(cRecommend), lo):
			return reasonRecommend
		case v.near(set(cTax), lo, hi, 3):
			return reasonTax
		case v.before(set(cNear), lo, 3):
			return reasonPlace
		case v.inSentence(set(cInvoice), lo):
			return reasonInvoice
		case v.inSentence(set(cOld), lo):
			return reasonAnotherParty
		case v.inSentence(set(cAccompany), lo):
			return reasonAnotherParty // "il mio avvocato viene con me all'appuntamento"
		}
	case Human:
		if v.inSentence(set(cPast, cYesterday, cPraise), lo) {
			return reasonReported
		}
	}
	return ""
}

// wantNoMore: spoken French "je veux plus" is "je ne veux plus".
func wantNoMore(v *view, i int) bool {
	for j := range v.toks {
		if v.toks[j].clause == v.toks[i].clause && v.ctx[j].has(cWant) && j+1 < len(v.toks) && v.toks[j+1].word == "plus" {
			return true
		}
	}
	return false
}

// goneInClause: the clause says the pain is gone ("il dolore è passato"),
// not that it began last week ("dalla settimana passata").
func goneInClause(v *view, lo, hi int) bool {
	if v.negation(lo, hi) >= 0 {
		return false
	}
	for j := range v.toks {
		if v.toks[j].clause == v.toks[lo].clause && v.ctx[j].has(cGone) && !(j > 0 && v.ctx[j-1].has(cTimeUnit)) {
			return true
		}
	}
	return false
}

// conditional: a negation after "if" belongs to the condition: "se non
// risolvete entro venerdì vi denuncio", "wenn ihr das nicht regelt,
// verklage ich euch".
func conditional(v *view, neg int) bool {
	for j := neg - 1; j >= 0 && v.toks[j].sentence == v.toks[neg].sentence; j-- {
		if v.ctx[j].has(cIf) {
			return true
		}
	}
	return false
}

// copulaBefore: "sono avvocato", "my brother is a lawyer", "this is Sue":
// the word before, articles aside, is "am", "is", "sono".
func copulaBefore(v *view, i int) bool {
	return v.lookBack(i,
		func(j int) bool { return v.cs[j].has(cCopula) },
		func(j int) bool { return v.cs[j].has(cDet) })
}

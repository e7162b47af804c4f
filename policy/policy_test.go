package policy

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func matcher(t testing.TB) *Matcher {
	t.Helper()
	m, err := Default().Compile()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestPolicyCases(t *testing.T) {
	m := matcher(t)
	cases := []struct {
		text     string
		category string // "" for no escalation
		optOut   bool
	}{
		// Medical urgency, and its negations.
		{"Ho un forte mal di denti da ieri sera", Medical, false},
		{"Mi sanguina la gengiva e la guancia è gonfia", Medical, false},
		{"Non ho dolore, volevo solo spostare l'appuntamento", "", false},
		{"Non ho più dolore, grazie dottore", "", false},
		{"Non so se è grave, ma sanguina molto", Medical, false},
		{"J'ai très mal aux dents depuis ce matin", Medical, false},
		{"Je n'ai pas mal, c'est juste pour un détartrage", "", false},
		{"Je n'ai plus aucune douleur", "", false},
		{"My tooth is really painful and my cheek is swollen", Medical, false},
		{"No pain at all, just booking a cleaning", "", false},
		{"I don't have a fever", "", false},
		{"No, it hurts a lot", Medical, false},
		{"Me duele mucho la muela y tengo fiebre", Medical, false},
		{"No tengo dolor, solo quiero una limpieza", "", false},
		{"Ich habe starke Zahnschmerzen", Medical, false},
		{"Ich habe keine Schmerzen mehr", "", false},
		{"Das Zahnfleisch blutet", Medical, false},
		// Complaints, refunds, legal threats, asking for a person.
		{"È una vergogna, servizio pessimo", Complaint, false},
		{"This is unacceptable, I am furious", Complaint, false},
		{"Voglio il rimborso del divano", Refund, false},
		{"I want a refund for the sofa", Refund, false},
		{"Je veux être remboursé", Refund, false},
		{"Quiero un reembolso", Refund, false},
		{"Ich möchte eine Rückerstattung", Refund, false},
		{"Vi denuncio, chiamo il mio avvocato", Legal, false},
		{"I will sue you", Legal, false},
		{"Hi, this is Sue from the shop next door", "", false},
		{"Voglio parlare con una persona", Human, false},
		{"Can I talk to a real person please?", Human, false},
		{"Je voudrais parler à un conseiller", Human, false},
		{"¿Puedo hablar con una persona?", Human, false},
		{"Ich möchte mit einem Menschen sprechen", Human, false},
		// Plain business, which must not escalate.
		{"Un divano per una persona, in velluto verde", "", false},
		{"Do you paint walls? I need painting done", "", false},
		{"Avete il modello in pelle?", "", false},
		// Opt-out, and its trap.
		{"STOP", "", true},
		{"stop!", "", true},
		{"Stop please", "", true},
		{"Basta grazie", "", true},
		{"Unsubscribe", "", true},
		{"Non voglio più ricevere messaggi promozionali", "", true},
		{"Merci de me désabonner", "", true},
		{"Quiero darme de baja", "", true},
		{"Bitte abmelden", "", true},
		{"Can I stop by the shop tomorrow?", "", false},
		{"Stop by anytime!", "", false},
		{"Quando posso passare a ritirare il divano?", "", false},
	}
	for _, c := range cases {
		t.Run(c.text, func(t *testing.T) {
			r := m.Check(c.text)
			got := ""
			if r.Category != nil {
				got = *r.Category
			}
			if got != c.category || r.Escalate != (c.category != "") || r.OptOut != c.optOut {
				t.Errorf("got escalate=%v category=%q opt_out=%v (%s); want category=%q opt_out=%v",
					r.Escalate, got, r.OptOut, r.Describe(), c.category, c.optOut)
			}
		})
	}
}

// The phrasings the issue names: opt-outs that were missed, a complaint of
// judgement plus repeated failure, and the traps that must not fire.
func TestIssueExamples(t *testing.T) {
	m := matcher(t)
	for _, text := range []string{"toglietemi dalla vostra lista", "non voglio ricevere più i vostri messaggi",
		"smettetela di mandarmi messaggi", "cancellate il mio numero", "je ne souhaite plus recevoir vos messages",
		"retirez-moi de votre liste", "arrêtez de m'écrire", "dejen de enviarme mensajes", "bórrenme de la lista",
		"bitte meldet mich ab"} {
		if r := m.Check(text); !r.OptOut || r.OptIn {
			t.Errorf("%q: not an opt-out: %s", text, r.Describe())
		}
	}
	for _, text := range []string{"è la terza volta che sbagliate il mio ordine, siete dei dilettanti",
		"c'est la deuxième fois que vous annulez mon rendez-vous, service lamentable"} {
		if r := m.Check(text); !r.Escalate || *r.Category != Complaint {
			t.Errorf("%q: not a complaint: %s", text, r.Describe())
		}
	}
	for _, text := range []string{"START", "riattiva", "iscrivimi di nuovo", "je veux recevoir vos offres",
		"quiero volver a recibir sus ofertas", "wieder anmelden"} {
		if r := m.Check(text); !r.OptIn || r.OptOut {
			t.Errorf("%q: not a re-subscribe: %s", text, r.Describe())
		}
	}
	for _, text := range []string{"stop by the shop", "non smettete di scrivermi le offerte, mi piacciono",
		"je ne veux pas annuler", "can you stop the delivery until Monday", "basta così grazie, ho tutto",
		"non ho più dolore", "quit smoking tips?", "il rimborso è arrivato, grazie", "start time of the appointment?",
		"ricomincio lunedì"} {
		if r := m.Check(text); r.OptOut || r.OptIn || r.Escalate {
			t.Errorf("%q: fired: %s", text, r.Describe())
		}
	}
}

// The later of an opt-out and an opt-in decides.
func TestLaterRequestWins(t *testing.T) {
	m := matcher(t)
	if r := m.Check("ho scritto STOP per sbaglio, riattivate le offerte per favore"); !r.OptIn || r.OptOut {
		t.Errorf("opt-in after a mistaken stop: %s", r.Describe())
	}
	if r := m.Check("vi avevo chiesto di iscrivermi alle offerte, ma ora basta: toglietemi dalla lista"); !r.OptOut || r.OptIn {
		t.Errorf("opt-out after an opt-in: %s", r.Describe())
	}
}

// An owner's phrase matches the other forms of its words, and parts
// joined by " + " match in any order.
func TestOwnerPhrases(t *testing.T) {
	r := Default()
	r.Phrases[Refund]["it"] = []string{"restituzione"}
	r.Phrases[Human]["en"] = []string{"boss + talk"}
	r.OptOut["de"] = append(r.OptOut["de"], "funkstille")
	m, err := r.Compile()
	if err != nil {
		t.Fatal(err)
	}
	for text, want := range map[string]string{
		"voglio la restituzione della cifra":   Refund,
		"restituzioni? dopo quanti giorni":     Refund, // a plural is the same word
		"can I talk to your boss":              Human,
		"your boss, I want to talk to him now": Human,
	} {
		if res := m.Check(text); !res.Escalate || *res.Category != want {
			t.Errorf("%q: %s", text, res.Describe())
		}
	}
	if res := m.Check("ab jetzt bitte Funkstille"); !res.OptOut {
		t.Errorf("owner's opt-out phrase: %s", res.Describe())
	}
	if res := m.Check("boss, ciao"); res.Escalate {
		t.Errorf("one part alone matched: %s", res.Describe())
	}
	bad := Default()
	bad.Phrases[Human]["en"] = []string{"boss + "}
	if err := bad.Validate(); err == nil {
		t.Error("a phrase with an empty part was accepted")
	}
}

// Rules stored before re-subscribe existed get its defaults; lists the
// owner emptied stay empty.
func TestUpgradeOldRules(t *testing.T) {
	var r Rules
	if err := json.Unmarshal([]byte(`{"phrases":{},"opt_out":{"it":["basta offerte"]},"stop_words":{"en":["stop"]},"negations":{}}`), &r); err != nil {
		t.Fatal(err)
	}
	r.Upgrade()
	if len(r.OptIn["it"]) == 0 || len(r.StartWords["en"]) == 0 {
		t.Fatalf("no defaults for the new lists: %+v", r)
	}
	m, err := r.Compile()
	if err != nil {
		t.Fatal(err)
	}
	if res := m.Check("START"); !res.OptIn {
		t.Errorf("START: %s", res.Describe())
	}
	if res := m.Check("basta offerte!"); !res.OptOut {
		t.Errorf("the old opt-out phrase: %s", res.Describe())
	}
	emptied := Rules{OptIn: map[string][]string{}, StartWords: map[string][]string{}}
	emptied.Upgrade()
	if len(emptied.OptIn) != 0 || len(emptied.StartWords) != 0 {
		t.Errorf("emptied lists refilled: %+v", emptied)
	}
}

// A match that does not count says why.
func TestReasons(t *testing.T) {
	m := matcher(t)
	for text, reason := range map[string]string{
		"non ho dolore":                                   reasonNegated,
		"il rimborso è arrivato, grazie":                  reasonReceived,
		"cancellate il mio numero vecchio e usate questo": reasonOld,
		"sono avvocato, posso venire alle 18?":            reasonProfession,
	} {
		found := false
		for _, mt := range m.Check(text).Matched {
			found = found || mt.Negated && mt.Reason == reason
		}
		if !found {
			t.Errorf("%q: no match cancelled as %s: %s", text, reason, m.Check(text).Describe())
		}
	}
}

func TestMatchedText(t *testing.T) {
	r := matcher(t).Check("Buongiorno, mi SANGUINA la gengiva!")
	if len(r.Matched) != 1 || r.Matched[0].Text != "SANGUINA" || r.Matched[0].Lang != "it" {
		t.Fatalf("%s", r.Describe())
	}
	r = matcher(t).Check("Je n'ai plus aucune douleur")
	if r.Escalate || len(r.Matched) == 0 || !r.Matched[0].Negated {
		t.Fatalf("negated match not reported: %+v", r.Matched)
	}
}

type fakeModel struct {
	j   *Judgement
	err error
}

func (f fakeModel) Classify(context.Context, string) (*Judgement, error) { return f.j, f.err }

func TestModelJudgementMustBeGrounded(t *testing.T) {
	m := matcher(t)
	ctx := context.Background()
	text := "Il prodotto che mi avete mandato mi ha causato una reazione allergica"
	if r := m.Check(text); r.Escalate {
		t.Fatalf("rules alone escalate: %s", r.Describe())
	}
	grounded := fakeModel{j: &Judgement{Escalate: true, Category: Medical, Evidence: "reazione allergica"}}
	if r := m.Evaluate(ctx, text, grounded); !r.Escalate || *r.Category != Medical || r.Matched[0].Source != "model" {
		t.Fatalf("grounded judgement ignored: %+v", r)
	}
	for name, cl := range map[string]Classifier{
		"evidence not in the message": fakeModel{j: &Judgement{Escalate: true, Category: Medical, Evidence: "Hello, I am a tiny model."}},
		"unknown category":            fakeModel{j: &Judgement{Escalate: true, Category: "vibes", Evidence: "reazione allergica"}},
		"model failure":               fakeModel{err: errors.New("timeout")},
		"no model":                    nil,
	} {
		if r := m.Evaluate(ctx, text, cl); r.Escalate {
			t.Errorf("%s: escalated", name)
		}
	}
	// A customer's negation stands against the model.
	if r := m.Evaluate(ctx, "Non ho dolore", fakeModel{j: &Judgement{Escalate: true, Category: Medical, Evidence: "dolore"}}); r.Escalate {
		t.Error("the model overrode a negation")
	}
}

// A rule cancelled for one category ("the refund arrived") does not stop
// the model finding another; it does stop the model finding that one.
func TestModelAfterCancelledRule(t *testing.T) {
	m := matcher(t)
	ctx := context.Background()
	text := "il rimborso è arrivato, ma ho una reazione allergica al prodotto"
	medical := fakeModel{j: &Judgement{Escalate: true, Category: Medical, Evidence: "reazione allergica"}}
	if r := m.Evaluate(ctx, text, medical); !r.Escalate || *r.Category != Medical {
		t.Errorf("the model's medical judgement was dropped: %s", r.Describe())
	}
	refund := fakeModel{j: &Judgement{Escalate: true, Category: Refund, Evidence: "rimborso"}}
	if r := m.Evaluate(ctx, text, refund); r.Escalate {
		t.Errorf("the model overrode a cancelled refund: %s", r.Describe())
	}
}

func TestValidate(t *testing.T) {
	r := Default()
	r.Phrases["vibes"] = map[string][]string{"en": {"x"}}
	if err := r.Validate(); err == nil {
		t.Error("unknown category accepted")
	}
	r = Default()
	r.Phrases[Medical]["xx"] = []string{"x"}
	if err := r.Validate(); err == nil {
		t.Error("unknown language accepted")
	}
	r = Default()
	r.OptOut["en"] = append(r.OptOut["en"], "  ,,, ")
	if err := r.Validate(); err == nil {
		t.Error("empty phrase accepted")
	}
}

func FuzzCheck(f *testing.F) {
	for _, s := range []string{"STOP", "non ho dolore", "l'école", "Zahnschmerzen!!", "", "🙂🙂", "n'ai pas mal",
		"nn voglio + messaggi", "retirez-moi", "¿c'è un umano?", "hört ... auf", "38.5", "stooooop", "+ + +", "a-", "-a"} {
		f.Add(s)
	}
	m, _ := Default().Compile()
	f.Fuzz(func(t *testing.T, s string) {
		r := m.Check(s)
		if r.Escalate != (r.Category != nil) || r.OptIn && r.OptOut {
			t.Fatalf("inconsistent result %+v", r)
		}
		for _, mt := range r.Matched {
			if !strings.Contains(s, mt.Text) {
				t.Fatalf("matched text %q is not in the message", mt.Text)
			}
		}
	})
}

func BenchmarkCheck(b *testing.B) {
	m, _ := Default().Compile()
	text := "Buongiorno, volevo sapere se avete posto domani per una pulizia, non ho dolore ma vorrei controllare un dente"
	b.ReportAllocs()
	for b.Loop() {
		m.Check(text)
	}
}

func TestSameWordsMatchOnce(t *testing.T) {
	m, err := Default().Compile()
	if err != nil {
		t.Fatal(err)
	}
	res := m.Check("ho un forte dolore")
	n := 0
	for _, mt := range res.Matched {
		if mt.Text == "dolore" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("\"dolore\" matched %d times: %+v", n, res.Matched)
	}
}

// BenchmarkCheckTypical runs the matcher over the messages of the
// evaluation set in turn, the length and mix customers write.
func BenchmarkCheckTypical(b *testing.B) {
	m, _ := Default().Compile()
	items := loadEval(b, "test")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		m.Check(items[i%len(items)].Text)
		i++
	}
}

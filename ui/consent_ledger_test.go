package ui_test

import (
	"bytes"
	"context"
	"image/png"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	qr "github.com/piglig/go-qr"

	"sendbox/consent"
	sbevents "sendbox/events"
	"sendbox/sendboxtest"
	"sendbox/store"
)

// TestContactPageShowsLedger: the contact page lists the consent ledger,
// newest first, with the choice, source, wording and version, proof and
// who recorded it.
func TestContactPageShowsLedger(t *testing.T) {
	a := sendboxtest.New(t)
	ctx := context.Background()
	id, err := a.Store.CreateContact(ctx, "393330009001", store.ContactUpdate{Name: "Livia"}, "", "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Store.RecordConsent(ctx, store.ConsentEntry{ContactID: id, Status: store.ConsentOptedIn,
		Source: store.ConsentSourceForm, Wording: "Sì, voglio ricevere offerte", WordingVersion: "it-4",
		Proof: map[string]any{"ip": "203.0.113.9"}, At: time.Now().Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	key := sbevents.APIKey(4, "crm")
	if _, err := a.Store.RecordConsent(ctx, store.ConsentEntry{ContactID: id, Status: store.ConsentOptedOut,
		Source: store.ConsentSourceAPI, Actor: &key}); err != nil {
		t.Fatal(err)
	}
	b := setupOwner(t, a)
	resp, page := b.get("/contacts/" + strconv.FormatInt(id, 10))
	if resp.StatusCode != 200 {
		t.Fatalf("contact page: %d", resp.StatusCode)
	}
	i := strings.Index(page, `id="consent-ledger"`)
	if i < 0 {
		t.Fatalf("no consent ledger on the contact page:\n%s", page)
	}
	ledger := page[i:]
	out, in := strings.Index(ledger, "Opted out of marketing"), strings.Index(ledger, "Agreed to marketing")
	for _, want := range []string{"Opt-in page", "Sì, voglio ricevere offerte", "version it-4", "203.0.113.9", "API key · crm"} {
		if !strings.Contains(ledger, want) {
			t.Errorf("the ledger lacks %q", want)
		}
	}
	if out < 0 || in < 0 || out > in {
		t.Errorf("not newest first: opt-out at %d, opt-in at %d", out, in)
	}
}

// TestOptinPage: the hosted page shows the wording in the customer's
// language; a submission without its CSRF token is refused; one with it
// adds the contact, opted in, with the form's proof; a client that keeps
// submitting is stopped.
func TestOptinPage(t *testing.T) {
	a := sendboxtest.New(t)
	ctx := context.Background()
	b := newBrowser(t, a)
	resp, page := b.get("/optin?lang=it")
	if resp.StatusCode != 200 || !strings.Contains(page, consent.DefaultWordings["it"].Text) || !strings.Contains(page, "Numero di cellulare") {
		t.Fatalf("opt-in page: %d\n%s", resp.StatusCode, page)
	}
	form := url.Values{"lang": {"it"}, "phone": {"+39 347 555 0101"}, "name": {"Livia"}, "agree": {"on"}}
	if resp, _ := b.post("/optin", url.Values{"csrf": {"forged"}, "lang": {"it"}, "phone": {"+393475550101"}, "agree": {"on"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a forged CSRF token: %d", resp.StatusCode)
	}
	if _, err := a.Store.ContactByRecipient(ctx, "393475550101", ""); err == nil {
		t.Fatal("a refused submission added the contact")
	}
	resp, page = b.post("/optin", form)
	if resp.StatusCode != 200 || !strings.Contains(page, consent.FormWords["it"].Thanks) {
		t.Fatalf("submission: %d\n%s", resp.StatusCode, page)
	}
	c, err := a.Store.ContactByRecipient(ctx, "393475550101", "")
	if err != nil || c.Consent != store.ConsentOptedIn || c.Name != "Livia" {
		t.Fatalf("the contact: %+v %v", c, err)
	}
	recs, _ := a.Store.ConsentLedger(ctx, c.ID)
	if len(recs) != 1 || recs[0].Source != store.ConsentSourceForm || recs[0].WordingVersion != "it-1" ||
		recs[0].Wording != consent.DefaultWordings["it"].Text || !strings.Contains(string(recs[0].Proof), `"ip":"127.0.0.1"`) ||
		!strings.Contains(string(recs[0].Proof), "user_agent") {
		t.Fatalf("the record: %+v %s", recs, recs[0].Proof)
	}
	// Without the box ticked, or with no number: refused, nothing recorded.
	if resp, page := b.post("/optin", url.Values{"lang": {"it"}, "phone": {"+393475550102"}}); resp.StatusCode != 422 ||
		!strings.Contains(page, consent.FormWords["it"].NotAgreed) {
		t.Fatalf("without the box: %d", resp.StatusCode)
	}
	if resp, page := b.post("/optin", url.Values{"lang": {"it"}, "phone": {"ciao"}, "agree": {"on"}}); resp.StatusCode != 422 ||
		!strings.Contains(page, consent.FormWords["it"].BadPhone) {
		t.Fatalf("a bad number: %d", resp.StatusCode)
	}
	// Five submissions per ten minutes from one address: three made, two
	// more pass, the sixth is refused.
	for i := range 3 {
		resp, _ := b.post("/optin", url.Values{"lang": {"en"}, "phone": {"+44770090010" + strconv.Itoa(i)}, "agree": {"on"}})
		want := http.StatusOK
		if i == 2 {
			want = http.StatusTooManyRequests
		}
		if resp.StatusCode != want {
			t.Fatalf("submission %d: %d, want %d", i+4, resp.StatusCode, want)
		}
		if i == 2 && resp.Header.Get("Retry-After") == "" {
			t.Error("no Retry-After")
		}
	}
	if _, err := a.Store.ContactByRecipient(ctx, "447700900102", ""); err == nil {
		t.Fatal("the refused submission added the contact")
	}
}

// TestConsentSettings: Settings → Consent shows each language's wa.me
// link and QR code (which reads back as the link); changing a wording
// gives it its next version.
func TestConsentSettings(t *testing.T) {
	a := sendboxtest.New(t)
	b := setupOwner(t, a)
	resp, page := b.get("/settings/consent")
	if resp.StatusCode != 200 || !strings.Contains(page, "Enter the business number") {
		t.Fatalf("settings: %d\n%s", resp.StatusCode, page)
	}
	form := url.Values{"number": {"+39 02 1234 5678"}, "double_opt_in": {"on"}}
	for _, l := range consent.Langs {
		w := consent.DefaultWordings[l]
		form.Set("text."+l, w.Text)
		form.Set("button."+l, w.Button)
		form.Set("keyword."+l, w.Keyword)
	}
	form.Set("text.it", "Sì, voglio le offerte del negozio su WhatsApp.")
	if resp, page := b.post("/settings/consent", form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d\n%s", resp.StatusCode, page)
	}
	s, _ := consent.Load(context.Background(), a.Store)
	if s.Number != "390212345678" || !s.DoubleOptIn || s.Wordings["it"].Version != 2 || s.Wordings["en"].Version != 1 {
		t.Fatalf("saved: %+v", s)
	}
	_, page = b.get("/settings/consent")
	link := "https://wa.me/390212345678?text=ISCRIVIMI"
	if !strings.Contains(page, link) || !strings.Contains(page, "version it-2") || !strings.Contains(page, "/optin?lang=it") {
		t.Fatalf("settings after the save:\n%s", page)
	}
	resp, img := b.get("/settings/consent/qr.png?lang=it")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("qr png: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	decoded, err := png.Decode(bytes.NewReader([]byte(img)))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := qr.Decode(decoded); err != nil || got != link {
		t.Fatalf("the QR code reads %q (%v), want %q", got, err, link)
	}
	resp, svg := b.get("/settings/consent/qr.svg?lang=de")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "image/svg+xml") || !strings.Contains(svg, "<svg") {
		t.Fatalf("qr svg: %d", resp.StatusCode)
	}
	if resp, _ := b.get("/settings/consent/qr.png?lang=xx"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("an unknown language: %d", resp.StatusCode)
	}
	// A wording Meta would refuse: a button over 20 characters.
	form.Set("button.fr", "Oui, envoyez-moi vos offres")
	if resp, page := b.post("/settings/consent", form); resp.StatusCode != 422 || !strings.Contains(page, "20 characters") {
		t.Fatalf("a long button: %d", resp.StatusCode)
	}
}

// TestContactFormRefusesSuppressedOptIn: an agent cannot opt in a number
// that opted out before it was erased: the form says so, the other fields
// are saved and the ledger shows the refusal.
func TestContactFormRefusesSuppressedOptIn(t *testing.T) {
	a := sendboxtest.New(t)
	ctx := context.Background()
	id, err := a.Store.CreateContact(ctx, "393330009002", store.ContactUpdate{}, store.ConsentOptedOut, "whatsapp message", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Store.EraseContact(ctx, id); err != nil {
		t.Fatal(err)
	}
	back, err := a.Store.CreateContact(ctx, "393330009002", store.ContactUpdate{}, "", "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b := setupOwner(t, a)
	path := "/contacts/" + strconv.FormatInt(back, 10)
	b.get(path)
	resp, page := b.post(path, url.Values{"name": {"Livia"}, "consent": {"opted_in"}})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(page, "Saved, but not the opt-in") ||
		!strings.Contains(page, "Refused: the number opted out before it was erased") {
		t.Fatalf("form: %d\n%s", resp.StatusCode, page)
	}
	if c, _ := a.Store.ContactByID(ctx, back); c.Consent != store.ConsentUnknown || c.Name != "Livia" {
		t.Fatalf("contact: %s %q", c.Consent, c.Name)
	}
}

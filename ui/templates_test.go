package ui_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"sendbox/sendboxtest"
	"sendbox/whatsapp/sim"
)

var templateIDRE = regexp.MustCompile(`^/templates/(\d+)`)

// waitPage reloads path until it contains want.
func waitPage(t *testing.T, b *browser, path, want string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, body := b.get(path)
		if strings.Contains(body, want) {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never showed %q:\n%s", path, want, body)
		}
		time.Sleep(30 * time.Millisecond)
	}
}

// TestTemplatesPage: an admin submits a suggested wording and a template of
// their own from the panel; the page shows it in review, then approved
// once Meta's webhook comes, rejected with Meta's reason, paused; the
// preview fills the examples in; a bad name is refused in words; deleting
// asks for the name. A viewer reads the page and cannot change anything.
func TestTemplatesPage(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithGraph(sim.Options{TemplateReviewDelay: 100 * time.Millisecond,
		Templates: []sim.Template{{Name: "hello_world", Language: "en_US", Category: "UTILITY", Body: "Hello"}}}))
	b := setupOwner(t, a)
	resp, page := b.get("/templates")
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `href="/templates"`) || !strings.Contains(page, "Suggested wordings") ||
		!strings.Contains(page, "Submit the suggested wording of order_confirmation (it)") {
		t.Fatalf("templates page: %d\n%s", resp.StatusCode, page)
	}
	// The suggested wording, in one click.
	resp, body := b.post("/templates/catalogue", url.Values{"name": {"order_confirmation"}, "language": {"it"}})
	m := templateIDRE.FindStringSubmatch(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || m == nil {
		t.Fatalf("submit suggested: %d %s %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	waitPage(t, b, "/templates/"+m[1], "Approved")

	// The live preview: examples in place of the variables, buttons below.
	form := url.Values{"name": {"spring_restock"}, "language": {"en"}, "category": {"UTILITY"}, "header_format": {"TEXT"},
		"header_text": {"Back in stock"}, "body": {"Hi {{1}}, the {{2}} is back."}, "examples": {"1 = Anna\n2 = rose serum"},
		"footer": {"Reply STOP to opt out"}, "buttons": {"QUICK_REPLY | Reserve one\nURL | Shop | https://shop.example.com/{{1}} | https://shop.example.com/rose"},
		"variables": {"1 = first_name | there\n2 = attribute:product"}}
	resp, frag := b.post("/templates/preview", form)
	if resp.StatusCode != http.StatusOK || !strings.Contains(frag, "Hi Anna, the rose serum is back.") || !strings.Contains(frag, "Back in stock") ||
		!strings.Contains(frag, "Reserve one") || strings.Contains(frag, "<html") {
		t.Fatalf("preview: %d %s", resp.StatusCode, frag)
	}
	// A bad name is refused with the rule, the form kept.
	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("name", "Spring Restock")
	resp, body = b.post("/templates", bad)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "lowercase letters") || !strings.Contains(body, "rose serum") {
		t.Fatalf("bad name: %d %s", resp.StatusCode, body)
	}
	// Missing example.
	bad.Set("name", "spring_restock")
	bad.Set("examples", "1 = Anna")
	if resp, body = b.post("/templates", bad); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "{{2}} needs an example") {
		t.Fatalf("missing example: %d %s", resp.StatusCode, body)
	}
	// Submitted: in review, then approved.
	resp, body = b.post("/templates", form)
	m = templateIDRE.FindStringSubmatch(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || m == nil {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	path := "/templates/" + m[1]
	page = waitPage(t, b, path, "Approved")
	if !strings.Contains(page, "1 = first_name | there") || !strings.Contains(page, "https://shop.example.com/rose") {
		t.Errorf("the form does not show the template back:\n%s", page)
	}
	// Meta pauses it: shown with its reason.
	if err := a.Sim.SetTemplateStatus("spring_restock", "en", "PAUSED", ""); err != nil {
		t.Fatal(err)
	}
	page = waitPage(t, b, path, "Paused")
	if !strings.Contains(page, "low quality") {
		t.Errorf("pause reason not shown:\n%s", page)
	}
	if err := a.Sim.SetTemplateQuality("spring_restock", "en", "RED"); err != nil {
		t.Fatal(err)
	}
	waitPage(t, b, "/templates", "Quality low")

	// Rejected, with Meta's words.
	rej := url.Values{"name": {"cart_left"}, "language": {"en"}, "category": {"MARKETING"}, "body": {"You left {{1}}{{2}} in your cart, see you soon."},
		"examples": {"1 = 2\n2 = serums"}}
	resp, body = b.post("/templates", rej)
	m = templateIDRE.FindStringSubmatch(resp.Header.Get("Location"))
	if m == nil {
		t.Fatalf("create rejected: %d %s", resp.StatusCode, body)
	}
	page = waitPage(t, b, "/templates/"+m[1], "Rejected")
	if !strings.Contains(page, "placed next to each other") {
		t.Errorf("rejection reason not shown:\n%s", page)
	}

	// A viewer reads, and cannot submit.
	v := userBrowser(t, a, "viewer")
	if resp, page := v.get("/templates"); resp.StatusCode != http.StatusOK || !strings.Contains(page, "spring_restock") || strings.Contains(page, "Submit this wording") {
		t.Errorf("viewer list: %d", resp.StatusCode)
	}
	if resp, page := v.get(path); resp.StatusCode != http.StatusOK || strings.Contains(page, `id="template-form"`) || !strings.Contains(page, "Preview") {
		t.Errorf("viewer detail: %d", resp.StatusCode)
	}
	if resp, _ := v.post("/templates", form); resp.StatusCode != http.StatusForbidden {
		t.Errorf("viewer create: %d", resp.StatusCode)
	}

	// Delete asks for the name.
	if resp, body := b.post(path+"/delete", url.Values{"confirm": {"yes"}}); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Type the template") {
		t.Fatalf("delete unconfirmed: %d", resp.StatusCode)
	}
	if resp, body := b.post(path+"/delete", url.Values{"confirm": {"spring_restock"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d %s", resp.StatusCode, body)
	}
	if resp, _ := b.get(path); resp.StatusCode != http.StatusNotFound {
		t.Errorf("after delete: %d", resp.StatusCode)
	}
}

// postMultipart posts a form with a file, as the browser does for the
// template form.
func postMultipart(t *testing.T, b *browser, path string, form url.Values, field, name, ctype string, data []byte) (*http.Response, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	form.Set("csrf", b.csrf)
	for k, vs := range form {
		for _, v := range vs {
			w.WriteField(k, v)
		}
	}
	h := make(map[string][]string)
	h["Content-Disposition"] = []string{fmt.Sprintf(`form-data; name=%q; filename=%q`, field, name)}
	h["Content-Type"] = []string{ctype}
	pw, _ := w.CreatePart(h)
	pw.Write(data)
	w.Close()
	req, _ := http.NewRequest("POST", b.a.URL()+path, &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return b.do(req)
}

// TestTemplateMediaHeader: in sandbox mode an image header's sample goes
// through the simulated Resumable Upload API and the template is
// approved; connected to a Meta account without SENDBOX_WA_APP_ID, the
// form says what to set.
func TestTemplateMediaHeader(t *testing.T) {
	form := func() url.Values {
		return url.Values{"name": {"new_shelf"}, "language": {"en"}, "category": {"MARKETING"}, "header_format": {"IMAGE"},
			"body": {"Our new shelf is in, come and see it."}}
	}
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR pixels")

	a := sendboxtest.New(t)
	a.Sim.SetTemplateReviewDelay(50 * time.Millisecond)
	b := setupOwner(t, a)
	b.get("/templates/new")
	resp, body := postMultipart(t, b, "/templates", form(), "header_file", "shelf.png", "image/png", png)
	m := templateIDRE.FindStringSubmatch(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || m == nil {
		t.Fatalf("create with image: %d %s", resp.StatusCode, body)
	}
	waitPage(t, b, "/templates/"+m[1], "Approved")

	c := sendboxtest.New(t, sendboxtest.WithGraph(sim.Options{TemplateReviewDelay: -1}))
	b = setupOwner(t, c)
	b.get("/templates/new")
	resp, body = postMultipart(t, b, "/templates", form(), "header_file", "shelf.png", "image/png", png)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "SENDBOX_WA_APP_ID") {
		t.Fatalf("without the app id: %d %s", resp.StatusCode, body)
	}
}

// TestLocaleKeysUnique: a key given twice in locales/en.json silently
// keeps only its last value, replacing a string some other page shows.
func TestLocaleKeysUnique(t *testing.T) {
	b, err := os.ReadFile("locales/en.json")
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	seen := map[string]bool{}
	depth := 0
	key := true
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch v := tok.(type) {
		case json.Delim:
			if v == '{' {
				depth++
			} else if v == '}' {
				depth--
			}
			key = true
		case string:
			if depth == 1 && key {
				if seen[v] {
					t.Errorf("locales/en.json has %q twice", v)
				}
				seen[v] = true
				key = false
			} else {
				key = true
			}
		}
	}
}

package ui_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
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
		"header_text": {"Back in stock"}, "body": {"Hi {{1}}, the {{2}} is back."}, "footer": {"Reply STOP to opt out"},
		"buttons_n": {"2"}, "b.0.type": {"QUICK_REPLY"}, "b.0.text": {"Reserve one"},
		"b.1.type": {"URL"}, "b.1.text": {"Shop"}, "b.1.url": {"https://shop.example.com/{{1}}"}, "b.1.example": {"https://shop.example.com/rose"},
		"variables_n": {"3"}, "v.0.key": {"1"}, "v.0.example": {"Anna"}, "v.0.from": {"first_name"}, "v.0.fallback": {"there"},
		"v.1.key": {"2"}, "v.1.example": {"rose serum"}, "v.1.from": {"attribute"}, "v.1.value": {"product"},
		"v.2.key": {"button_1"}, "v.2.from": {"attribute"}, "v.2.value": {"slug"}}
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
	bad.Set("v.1.example", "")
	if resp, body = b.post("/templates", bad); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "{{2}} needs an example") ||
		!regexp.MustCompile(`id="v-1-example"[^>]*aria-invalid="true"`).MatchString(body) {
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
	for _, want := range []string{`name="v.0.fallback" type="text" value="there"`, `name="v.1.value" type="text" value="product"`, `name="v.2.value" type="text" value="slug"`,
		`value="https://shop.example.com/rose"`, `name="b.0.text" type="text" maxlength="25" value="Reserve one"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the form does not show %s back:\n%s", want, page)
		}
	}
	if tp, err := a.Store.TemplateByName(t.Context(), "spring_restock", "en"); err != nil || tp.VariableMap["1"].From != "first_name" ||
		tp.VariableMap["1"].Fallback != "there" || tp.VariableMap["2"].From != "attribute:product" || tp.VariableMap["button_1"].From != "attribute:slug" {
		t.Errorf("the variable map: %+v %v", tp, err)
	}
	// On the edit page too, adding a row redraws the form and sends nothing.
	edit := url.Values{}
	for k, v := range form {
		edit[k] = v
	}
	edit.Set("op", "add-button:PHONE_NUMBER")
	if resp, page := b.post(path, edit); resp.StatusCode != http.StatusOK || !strings.Contains(page, `id="b-2-phone"`) || !strings.Contains(page, `action="`+path+`"`) {
		t.Fatalf("add a row while editing: %d\n%s", resp.StatusCode, page)
	}
	if tp, _ := a.Store.TemplateByName(t.Context(), "spring_restock", "en"); tp.Status != "APPROVED" {
		t.Errorf("adding a row resubmitted the template: %s", tp.Status)
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
		"variables_n": {"2"}, "v.0.key": {"1"}, "v.0.example": {"2"}, "v.1.key": {"2"}, "v.1.example": {"serums"}}
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

// TestTemplateFormRows: buttons and variables are rows an owner adds and
// removes, with htmx or by plain posts (no JavaScript): adding a row
// submits nothing; a variable written in the message gets its row, in the
// page and through the live preview; and what Meta would refuse is named
// next to the field at fault.
func TestTemplateFormRows(t *testing.T) {
	a := sendboxtest.New(t, sendboxtest.WithGraph(sim.Options{TemplateReviewDelay: -1}))
	b := setupOwner(t, a)
	_, page := b.get("/templates/new")
	for _, want := range []string{`name="buttons_n" value="0"`, `id="tpl-add-QUICK_REPLY"`, `id="tpl-add-URL"`, `id="tpl-add-PHONE_NUMBER"`,
		`id="tpl-add-COPY_CODE"`, `id="tpl-vars-none"`, `id="tpl-add-variable"`} {
		if !strings.Contains(page, want) {
			t.Fatalf("the new form has no %s:\n%s", want, page)
		}
	}
	base := func() url.Values {
		return url.Values{"name": {"order_ready"}, "language": {"en"}, "category": {"UTILITY"}, "body": {"Hi {{1}}, your order is ready for pickup."}}
	}
	// Add a link button: the page comes back with its row and the body's
	// variable row, and nothing is submitted.
	f := base()
	f.Set("op", "add-button:URL")
	resp, page := b.post("/templates", f)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `id="b-0-url"`) || !strings.Contains(page, `id="b-0-example"`) ||
		!regexp.MustCompile(`id="b-0-text"[^>]*autofocus`).MatchString(page) || !strings.Contains(page, `data-variable="1"`) ||
		!strings.Contains(page, `name="buttons_n" value="1"`) || strings.Contains(page, `id="b-0-phone"`) {
		t.Fatalf("add a link button: %d\n%s", resp.StatusCode, page)
	}
	if _, err := a.Store.TemplateByName(t.Context(), "order_ready", "en"); err == nil {
		t.Fatal("adding a row submitted the template")
	}
	// A second, then the first removed: the quick reply stays, typed text kept.
	f.Set("buttons_n", "1")
	f.Set("b.0.type", "URL")
	f.Set("b.0.text", "Track")
	f.Set("b.0.url", "https://shop.example.com/t/{{1}}")
	f.Set("op", "add-button:QUICK_REPLY")
	_, page = b.post("/templates", f)
	if !strings.Contains(page, `name="buttons_n" value="2"`) || !strings.Contains(page, `value="Track"`) || !strings.Contains(page, `data-variable="button_0"`) ||
		!strings.Contains(page, "End of button 1&#39;s link") {
		t.Fatalf("two buttons:\n%s", page)
	}
	f.Set("buttons_n", "2")
	f.Set("b.1.type", "QUICK_REPLY")
	f.Set("b.1.text", "Thanks")
	f.Set("op", "del-button:0")
	_, page = b.post("/templates", f)
	if !strings.Contains(page, `name="buttons_n" value="1"`) || !strings.Contains(page, `value="Thanks"`) || strings.Contains(page, `value="Track"`) ||
		strings.Contains(page, `data-variable="button_0"`) {
		t.Fatalf("remove the first button:\n%s", page)
	}
	// A variable row added by hand, then removed.
	f = base()
	f.Set("op", "add-variable")
	_, page = b.post("/templates", f)
	if !strings.Contains(page, `name="variables_n" value="2"`) || !regexp.MustCompile(`id="v-1-key"[^>]*autofocus`).MatchString(page) {
		t.Fatalf("add a variable row:\n%s", page)
	}
	f.Set("variables_n", "2")
	f.Set("v.0.key", "1")
	f.Set("op", "del-variable:1")
	if _, page = b.post("/templates", f); !strings.Contains(page, `name="variables_n" value="1"`) {
		t.Fatalf("remove a variable row:\n%s", page)
	}
	// The live preview redraws the variable rows when the message gains a
	// variable, and only then.
	pv := url.Values{"body": {"Hi {{1}}, your {{2}} is ready."}, "variables_n": {"1"}, "v.0.key": {"1"}, "v.0.example": {"Anna"}}
	_, frag := b.post("/templates/preview", pv)
	if !strings.Contains(frag, `id="tpl-vars" hx-swap-oob="true"`) || !strings.Contains(frag, `data-variable="2"`) || !strings.Contains(frag, `value="Anna"`) ||
		!strings.Contains(frag, "Hi Anna, your {{2}} is ready.") {
		t.Fatalf("preview with a new variable:\n%s", frag)
	}
	pv.Set("variables_n", "2")
	pv.Set("v.0.where", "body")
	pv.Set("v.1.key", "2")
	pv.Set("v.1.where", "body")
	if _, frag = b.post("/templates/preview", pv); strings.Contains(frag, "tpl-vars") {
		t.Fatalf("the preview redraws unchanged rows:\n%s", frag)
	}

	// Meta's limits, each named next to its field.
	btns := func(v url.Values, bs ...[3]string) url.Values { // type, text, url-or-phone
		v.Set("buttons_n", strconv.Itoa(len(bs)))
		for i, x := range bs {
			p := "b." + strconv.Itoa(i) + "."
			v.Set(p+"type", x[0])
			v.Set(p+"text", x[1])
			v.Set(p+"url", x[2])
			v.Set(p+"phone", x[2])
		}
		return v
	}
	withEx := func(v url.Values) url.Values {
		v.Set("variables_n", "1")
		v.Set("v.0.key", "1")
		v.Set("v.0.example", "Anna")
		return v
	}
	qr := [3]string{"QUICK_REPLY", "OK", ""}
	link := [3]string{"URL", "Shop", "https://shop.example.com"}
	call := [3]string{"PHONE_NUMBER", "Call us", "+393331234567"}
	eleven := make([][3]string, 11)
	for i := range eleven {
		eleven[i] = [3]string{"QUICK_REPLY", "Option " + strconv.Itoa(i+1), ""}
	}
	body := func(text string) url.Values { v := withEx(base()); v.Set("body", text); return v }
	for _, c := range []struct {
		name  string
		form  url.Values
		field string
		want  string
	}{
		{"eleven buttons", btns(withEx(base()), eleven...), "tpl-buttons", "at most 10 buttons"},
		{"quick replies split", btns(withEx(base()), qr, link, qr), "tpl-buttons", "quick replies go together"},
		{"three links", btns(withEx(base()), link, link, link), "tpl-buttons", "at most 2 link buttons"},
		{"two calls", btns(withEx(base()), call, call), "tpl-buttons", "at most one phone button"},
		{"long text", btns(withEx(base()), [3]string{"QUICK_REPLY", "Yes please, book it for me", ""}), "b-0-text", "Meta allows 25"},
		{"bad number", btns(withEx(base()), [3]string{"PHONE_NUMBER", "Call", "3331234567"}), "b-0-phone", "country code"},
		{"link example", btns(withEx(base()), [3]string{"URL", "Track", "https://shop.example.com/t/{{1}}"}), "b-0-example", "example of the full link"},
		{"starts with a variable", body("{{1}}, your order is ready for pickup."), "tpl-body", "cannot start or end with a variable"},
		{"ends with a variable", body("Your order is ready for pickup, {{1}}"), "tpl-body", "cannot start or end with a variable"},
		{"not sequential", body("Hi {{1}}, your {{3}} is ready for pickup."), "tpl-body", "without gaps"},
		{"no example", base(), "v-0-example", "{{1}} needs an example"},
		{"unused row", func() url.Values {
			v := withEx(base())
			v.Set("variables_n", "2")
			v.Set("v.1.key", "5")
			v.Set("v.1.example", "x")
			return v
		}(), "v-1-key", "{{5}} is not in the message"},
		{"attribute unnamed", func() url.Values { v := withEx(base()); v.Set("v.0.from", "attribute"); return v }(), "v-0-value", "contact attribute"},
	} {
		resp, page := b.post("/templates", c.form)
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d, want 422", c.name, resp.StatusCode)
			continue
		}
		marked := regexp.MustCompile(`id="` + regexp.QuoteMeta(c.field) + `"[^>]*aria-invalid="true"`)
		msg := regexp.MustCompile(`<p class="field-error" id="` + regexp.QuoteMeta(c.field) + `-err">([^<]*)</p>`).FindStringSubmatch(page)
		if !marked.MatchString(page) || msg == nil || !strings.Contains(strings.ToLower(html.UnescapeString(msg[1])), strings.ToLower(c.want)) {
			t.Errorf("%s: the field %s is not marked with %q:\n%s", c.name, c.field, c.want, page)
		}
	}
	if _, err := a.Store.TemplateByName(t.Context(), "order_ready", "en"); err == nil {
		t.Error("a refused form was submitted")
	}
}

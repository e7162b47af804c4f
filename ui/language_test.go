package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"sendbox/sendboxtest"
)

// The thread shows the language sendbox writes to the customer in and why;
// an agent chooses another in the details column, a viewer only sees it.
func TestThreadLanguage(t *testing.T) {
	a := sendboxtest.New(t)
	setupOwner(t, a)
	agent, viewer := userBrowser(t, a, "agent"), userBrowser(t, a, "viewer")
	m := say(t, a, "33612345678", "Camille", "ok")
	path := "/inbox/" + itoa(m.ConversationID)

	_, page := agent.get(path)
	for _, want := range []string{`id="conv-language"`, "French", "From the country code", `<option value="">Automatic (French)</option>`} {
		if !strings.Contains(page, want) {
			t.Errorf("the thread lacks %q", want)
		}
	}
	if resp, _ := viewer.post(path+"/language", url.Values{"language": {"de"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a viewer chose the language: %d", resp.StatusCode)
	}
	if resp, _ := agent.post(path+"/language", url.Values{"language": {"pt"}}); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("an unknown language: %d", resp.StatusCode)
	}
	if resp, body := agent.post(path+"/language", url.Values{"language": {"de"}}); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("choose German: %d %s", resp.StatusCode, body)
	}
	c, err := a.Store.ConversationByID(context.Background(), m.ConversationID)
	if err != nil || c.Language != "de" || c.LanguageSource != "agent" {
		t.Fatalf("after the choice: %+v %v", c, err)
	}
	_, details := agent.get(path + "/details?part=details")
	for _, want := range []string{`<option value="de" selected>German</option>`, "Chosen by an agent", "set the language to German"} {
		if !strings.Contains(details, want) {
			t.Errorf("the details lack %q", want)
		}
	}
	_, seen := viewer.get(path + "/details?part=details")
	if !strings.Contains(seen, "German") || strings.Contains(seen, `name="language"`) {
		t.Error("a viewer sees no language, or a selector")
	}
	agent.get(path)
	if resp, _ := agent.post(path+"/language", url.Values{"language": {""}}); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("back to automatic: %d", resp.StatusCode)
	}
	if c, _ := a.Store.ConversationByID(context.Background(), m.ConversationID); c.Language != "fr" || c.LanguageSource != "number" {
		t.Fatalf("back to automatic: %s (%s)", c.Language, c.LanguageSource)
	}
}

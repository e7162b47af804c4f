package ui

import "testing"

// TestSafeNext: the page to return to after sign-in must be a path of this
// site. Browsers drop tabs and newlines from a URL and read "\" as "/", so
// "/\t/host" and "/./\host" once became protocol-relative redirects.
func TestSafeNext(t *testing.T) {
	for next, want := range map[string]string{
		"":                          "/inbox",
		"/inbox":                    "/inbox",
		"/inbox/12?status=urgent":   "/inbox/12?status=urgent",
		"/settings/team#invite":     "/settings/team",
		"/search?q=caf%C3%A9+latte": "/search?q=caf%C3%A9+latte",
		"/./inbox":                  "/inbox",
		"/.//evil.example":          "/evil.example",
		"/..//evil.example":         "/evil.example",
		"/inbox/../settings":        "/settings",

		"//evil.example":             "/inbox",
		"///evil.example":            "/inbox",
		"/\t/evil.example":           "/inbox",
		"/\n/evil.example":           "/inbox",
		"/\r\n/evil.example":         "/inbox",
		"/./\\evil.example":          "/inbox",
		"/\\evil.example":            "/inbox",
		"\\\\evil.example":           "/inbox",
		"\\/evil.example":            "/inbox",
		"/%5Cevil.example":           "/inbox",
		"/%09/evil.example":          "/inbox",
		"/%2F/evil.example":          "/evil.example",
		"/inbox\x00":                 "/inbox",
		"/inbox\x7f":                 "/inbox",
		"https://evil.example/":      "/inbox",
		"http:evil.example":          "/inbox",
		"http:/evil.example":         "/inbox",
		"javascript:alert(1)":        "/inbox",
		"evil.example":               "/inbox",
		" /inbox":                    "/inbox",
		"/@evil.example":             "/@evil.example",
		"//user@evil.example/":       "/inbox",
		"/inbox?next=//evil.example": "/inbox?next=//evil.example",
	} {
		if got := safeNext(next); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", next, got, want)
		}
	}
}

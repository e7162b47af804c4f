package language

import "testing"

func TestFromNumber(t *testing.T) {
	t.Parallel()
	for number, want := range map[string]string{
		"393401234567": "it", "+393401234567": "it", "33612345678": "fr", "34612345678": "es",
		"4915112345678": "de", "436641234567": "de", "41791234567": "de", "16505551234": "en",
		"447700900123": "en", "17875551234": "es", "5215512345678": "es", "32470123456": "fr",
		"351912345678": "", "8613812345678": "", "": "", "+": "",
	} {
		if got := FromNumber(number); got != want {
			t.Errorf("FromNumber(%q) = %q, want %q", number, got, want)
		}
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	cases := []struct{ chosen, detected, waID, lang, source string }{
		{"de", "it", "393401234567", "de", SourceAgent},
		{"", "fr", "393401234567", "fr", SourceDetected},
		{"", "", "393401234567", "it", SourceNumber},
		{"", "", "", "en", SourceDefault},
		{"", "", "8613812345678", "en", SourceDefault},
		{"xx", "pt", "34612345678", "es", SourceNumber}, // stored values that are not languages are ignored
	}
	for _, c := range cases {
		if l, s := Resolve(c.chosen, c.detected, c.waID); l != c.lang || s != c.source {
			t.Errorf("Resolve(%q, %q, %q) = %s, %s; want %s, %s", c.chosen, c.detected, c.waID, l, s, c.lang, c.source)
		}
	}
}

// A short or ambiguous message does not move an established language.
func TestFollow(t *testing.T) {
	t.Parallel()
	cases := []struct {
		detected, guess string
		sure            bool
		want            string
	}{
		{"", "it", false, "it"},   // "grazie" as the first words: better than nothing
		{"fr", "it", false, "fr"}, // "grazie" in a French conversation
		{"fr", "", false, "fr"},   // "ok", "STOP", an emoji
		{"fr", "it", true, "it"},  // a sentence in Italian
		{"", "", false, ""},
		{"it", "pt", true, "it"},
	}
	for _, c := range cases {
		if got := Follow(c.detected, c.guess, c.sure); got != c.want {
			t.Errorf("Follow(%q, %q, %v) = %q, want %q", c.detected, c.guess, c.sure, got, c.want)
		}
	}
}

func TestFold(t *testing.T) {
	for in, want := range map[string]string{"Perché": "perche", "Straße": "strasse", "ŒUVRE": "oeuvre", "ciao": "ciao",
		"Ciao!": "ciao!", "Ça va": "ca va", "Łódź": "lodz", "": ""} {
		if got := Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCountry: a number's country from its calling code, the longest code
// first (Canada within +1, Kazakhstan within +7).
func TestCountry(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"393331234567", "IT"}, {"+33612345678", "FR"}, {"41791234567", "CH"}, {"12125550100", "US"},
		{"14165550100", "CA"}, {"17875550100", "PR"}, {"79161234567", "RU"}, {"77011234567", "KZ"},
		{"447911123456", "GB"}, {"262692123456", "RE"}, {"", ""}, {"999", ""},
	} {
		if got := Country(c.in); got != c.want {
			t.Errorf("Country(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

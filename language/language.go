// Package language is the one rule for which language sendbox writes to a
// customer in: the assistant's confirmations and holding messages today,
// flows, campaigns and reminders later. A conversation speaks, in order:
// the language an agent chose for it; the language detected from what the
// customer wrote (search.GuessLang, applied at ingest: a short or ambiguous
// message does not move it); the language of the number's country code;
// English.
package language

import "slices"

// Langs are the languages sendbox writes in.
var Langs = []string{"it", "fr", "en", "es", "de"}

// Names are the languages in English, for prompts and the API's timeline lines.
var Names = map[string]string{"it": "Italian", "fr": "French", "en": "English", "es": "Spanish", "de": "German"}

// Default is the language when nothing else tells.
const Default = "en"

// Where a conversation's language comes from.
const (
	SourceAgent    = "agent"    // an agent chose it in the thread or through the API
	SourceDetected = "detected" // the customer's messages
	SourceNumber   = "number"   // the country code of the customer's number
	SourceDefault  = "default"  // nothing told: English
)

// Valid reports whether l is one of Langs.
func Valid(l string) bool { return slices.Contains(Langs, l) }

// Resolve is the language a conversation speaks and where it comes from:
// the agent's choice, else the detected language, else the number's
// country, else English. waID is the customer's number in digits ("" for a
// customer known only by username).
func Resolve(chosen, detected, waID string) (lang, source string) {
	switch {
	case Valid(chosen):
		return chosen, SourceAgent
	case Valid(detected):
		return detected, SourceDetected
	}
	if l := FromNumber(waID); l != "" {
		return l, SourceNumber
	}
	return Default, SourceDefault
}

// FromNumber is the language most people speak in the country of a phone
// number (digits, with or without "+"), or "" when it is none of Langs or
// unknown. Switzerland (+41) is German: the language of most of its people
// (about six in ten); French and Italian speakers there are told apart as
// soon as they write a sentence. Belgium (+32) is French, the most spoken
// of Langs there. +1 is English, though Puerto Rico and the Dominican
// Republic, within +1, speak Spanish.
func FromNumber(waID string) string {
	if len(waID) > 0 && waID[0] == '+' {
		waID = waID[1:]
	}
	// Country codes are prefix-free (ITU-T E.164): the first that matches,
	// tried from the longest, is the one.
	for n := min(4, len(waID)); n >= 1; n-- {
		if l, ok := countryLang[waID[:n]]; ok {
			return l
		}
	}
	return ""
}

// countryLang maps country calling codes (with the +1 area codes that are
// not English) to the language of Langs most spoken there.
var countryLang = map[string]string{
	// Italian: Italy, San Marino, the Vatican.
	"39": "it", "378": "it", "379": "it",
	// French: France and its overseas departments, Belgium, Luxembourg,
	// Monaco, Haiti, and the French-speaking countries of Africa.
	"33": "fr", "32": "fr", "352": "fr", "377": "fr", "509": "fr", "262": "fr", "590": "fr", "594": "fr", "596": "fr",
	"221": "fr", "223": "fr", "224": "fr", "225": "fr", "226": "fr", "227": "fr", "228": "fr", "229": "fr",
	"241": "fr", "242": "fr", "243": "fr",
	// German: Germany, Austria, Switzerland, Liechtenstein.
	"49": "de", "43": "de", "41": "de", "423": "de",
	// Spanish: Spain and Spanish-speaking America.
	"34": "es", "52": "es", "53": "es", "54": "es", "56": "es", "57": "es", "58": "es", "51": "es",
	"502": "es", "503": "es", "504": "es", "505": "es", "506": "es", "507": "es",
	"591": "es", "593": "es", "595": "es", "598": "es", "240": "es",
	"1787": "es", "1939": "es", "1809": "es", "1829": "es", "1849": "es",
	// English: North America, the UK and Ireland, Oceania; also the default.
	"1": "en", "44": "en", "353": "en", "61": "en", "64": "en",
}

// Follow is a conversation's detected language after a customer message
// whose words point to guess (search.GuessLang): a sure guess moves it, a
// tentative one ("grazie", "merci beaucoup") only fills it while nothing is
// known yet, and a message that tells nothing ("ok", "STOP", an emoji)
// leaves it as it is.
func Follow(detected, guess string, sure bool) string {
	if !Valid(guess) || (!sure && Valid(detected)) {
		return detected
	}
	return guess
}

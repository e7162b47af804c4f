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

// Country is the ISO 3166-1 alpha-2 code of a phone number's country
// (digits, with or without "+"): "IT", "FR", or "" when the calling code is
// unknown. A code shared by several countries names the largest: +1 is
// "US" but for Canada's and the Caribbean's area codes, +7 "RU" but for
// Kazakhstan's +76 and +77, +44 "GB".
func Country(waID string) string {
	if len(waID) > 0 && waID[0] == '+' {
		waID = waID[1:]
	}
	for n := min(4, len(waID)); n >= 1; n-- {
		if c, ok := callingCountry[waID[:n]]; ok {
			return c
		}
	}
	return ""
}

// callingCountry maps country calling codes (ITU-T E.164) and, within +1
// and +7, the area codes of other countries, to ISO 3166-1 codes.
var callingCountry = map[string]string{
	// North America (+1): the United States, Canada's area codes, the Caribbean.
	"1":    "US",
	"1204": "CA", "1226": "CA", "1236": "CA", "1249": "CA", "1250": "CA", "1263": "CA", "1289": "CA", "1306": "CA",
	"1343": "CA", "1354": "CA", "1365": "CA", "1367": "CA", "1368": "CA", "1382": "CA", "1387": "CA", "1403": "CA",
	"1416": "CA", "1418": "CA", "1428": "CA", "1431": "CA", "1437": "CA", "1438": "CA", "1450": "CA", "1460": "CA",
	"1468": "CA", "1474": "CA", "1506": "CA", "1514": "CA", "1519": "CA", "1548": "CA", "1579": "CA", "1581": "CA",
	"1584": "CA", "1587": "CA", "1604": "CA", "1613": "CA", "1639": "CA", "1647": "CA", "1672": "CA", "1683": "CA",
	"1705": "CA", "1709": "CA", "1742": "CA", "1753": "CA", "1778": "CA", "1780": "CA", "1782": "CA", "1807": "CA",
	"1819": "CA", "1825": "CA", "1867": "CA", "1873": "CA", "1879": "CA", "1902": "CA", "1905": "CA",
	"1787": "PR", "1939": "PR", "1809": "DO", "1829": "DO", "1849": "DO", "1876": "JM", "1868": "TT", "1242": "BS",
	"1246": "BB",
	// Russia and Kazakhstan (+7).
	"7": "RU", "76": "KZ", "77": "KZ",
	// Europe.
	"30": "GR", "31": "NL", "32": "BE", "33": "FR", "34": "ES", "36": "HU", "39": "IT", "40": "RO", "41": "CH",
	"43": "AT", "44": "GB", "45": "DK", "46": "SE", "47": "NO", "48": "PL", "49": "DE",
	"350": "GI", "351": "PT", "352": "LU", "353": "IE", "354": "IS", "355": "AL", "356": "MT", "357": "CY",
	"358": "FI", "359": "BG", "370": "LT", "371": "LV", "372": "EE", "373": "MD", "374": "AM", "375": "BY",
	"376": "AD", "377": "MC", "378": "SM", "379": "VA", "380": "UA", "381": "RS", "382": "ME", "383": "XK",
	"385": "HR", "386": "SI", "387": "BA", "389": "MK", "420": "CZ", "421": "SK", "423": "LI",
	// Africa.
	"20": "EG", "27": "ZA", "211": "SS", "212": "MA", "213": "DZ", "216": "TN", "218": "LY", "220": "GM",
	"221": "SN", "222": "MR", "223": "ML", "224": "GN", "225": "CI", "226": "BF", "227": "NE", "228": "TG",
	"229": "BJ", "230": "MU", "231": "LR", "232": "SL", "233": "GH", "234": "NG", "235": "TD", "236": "CF",
	"237": "CM", "238": "CV", "240": "GQ", "241": "GA", "242": "CG", "243": "CD", "244": "AO", "248": "SC",
	"249": "SD", "250": "RW", "251": "ET", "252": "SO", "253": "DJ", "254": "KE", "255": "TZ", "256": "UG",
	"257": "BI", "258": "MZ", "260": "ZM", "261": "MG", "262": "RE", "263": "ZW", "264": "NA", "265": "MW",
	"266": "LS", "267": "BW", "268": "SZ", "269": "KM",
	// The Americas south of +1.
	"51": "PE", "52": "MX", "53": "CU", "54": "AR", "55": "BR", "56": "CL", "57": "CO", "58": "VE",
	"501": "BZ", "502": "GT", "503": "SV", "504": "HN", "505": "NI", "506": "CR", "507": "PA", "509": "HT",
	"590": "GP", "591": "BO", "592": "GY", "593": "EC", "594": "GF", "595": "PY", "596": "MQ", "597": "SR",
	"598": "UY",
	// Asia and Oceania.
	"60": "MY", "61": "AU", "62": "ID", "63": "PH", "64": "NZ", "65": "SG", "66": "TH", "81": "JP", "82": "KR",
	"84": "VN", "86": "CN", "90": "TR", "91": "IN", "92": "PK", "93": "AF", "94": "LK", "95": "MM", "98": "IR",
	"852": "HK", "853": "MO", "855": "KH", "856": "LA", "880": "BD", "886": "TW", "960": "MV", "961": "LB",
	"962": "JO", "963": "SY", "964": "IQ", "965": "KW", "966": "SA", "967": "YE", "968": "OM", "970": "PS",
	"971": "AE", "972": "IL", "973": "BH", "974": "QA", "975": "BT", "976": "MN", "977": "NP", "992": "TJ",
	"993": "TM", "994": "AZ", "995": "GE", "996": "KG", "998": "UZ",
}

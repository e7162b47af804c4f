package outbound

import (
	"slices"
	"time"
)

// CustomerZone is the time zone a customer most likely lives in, from
// their number (digits, with or without "+"), so that marketing follows
// their night, not the business's. In order:
//
//   - the number's region when it tells: a North American (+1) area code
//     (212 New York, 415 San Francisco, 416 Toronto, 787 Puerto Rico…), a
//     Brazilian DDD (92 Manaus, 65 Cuiabá), an Australian, Mexican, Russian,
//     Spanish or Portuguese landline prefix with a zone of its own;
//   - in a country with several zones whose number does not tell (a US
//     number with an area code not in the table, an Australian or Russian
//     mobile), the business's own zone when it is one of that country's,
//     or else the country's most populous zone (New York for +1, Moscow,
//     Sydney, São Paulo, Mexico City, Jakarta, Madrid…);
//   - the country's zone, for a country with one;
//   - the business's zone for an unknown or missing number (a customer
//     known only by username).
func CustomerZone(waID string, business *time.Location) *time.Location {
	if business == nil {
		business = time.UTC
	}
	digits := make([]byte, 0, len(waID))
	for i := 0; i < len(waID); i++ {
		if c := waID[i]; c >= '0' && c <= '9' {
			digits = append(digits, c)
		}
	}
	num := string(digits)
	cc := ""
	for n := min(3, len(num)); n >= 1; n-- { // calling codes are prefix-free (E.164)
		if _, ok := countryZones[num[:n]]; ok {
			cc = num[:n]
			break
		}
	}
	if cc == "" {
		return business
	}
	region := num
	if cc == "52" && len(num) == 13 && num[2] == '1' {
		region = "52" + num[3:] // Mexican mobiles written the old way, 52 1 …
	}
	for n := min(7, len(region)); n > len(cc); n-- {
		if z, ok := regionZones[region[:n]]; ok {
			return load(z, business)
		}
	}
	zones := countryZones[cc]
	if slices.Contains(zones, business.String()) {
		return business
	}
	return load(zones[0], business)
}

func load(name string, fallback *time.Location) *time.Location {
	if loc, err := time.LoadLocation(name); err == nil {
		return loc
	}
	return fallback
}

// countryZones maps calling codes to the country's zones, the most
// populous first. +1 is the North American Numbering Plan as a whole (the
// United States, Canada and the Caribbean countries in it; their area codes
// are in regionZones).
var countryZones = map[string][]string{
	"1": {"America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles",
		"America/Anchorage", "Pacific/Honolulu", "America/Detroit", "America/Indiana/Indianapolis",
		"America/Kentucky/Louisville", "America/Boise", "America/Toronto", "America/Montreal", "America/Vancouver",
		"America/Edmonton", "America/Winnipeg", "America/Regina", "America/Halifax", "America/Moncton",
		"America/St_Johns", "US/Eastern", "US/Central", "US/Mountain", "US/Pacific"},
	"7":  {"Europe/Moscow", "Europe/Kaliningrad", "Europe/Samara", "Asia/Yekaterinburg", "Asia/Omsk", "Asia/Novosibirsk", "Asia/Krasnoyarsk", "Asia/Irkutsk", "Asia/Yakutsk", "Asia/Vladivostok", "Asia/Magadan", "Asia/Kamchatka"},
	"20": {"Africa/Cairo"}, "27": {"Africa/Johannesburg"},
	"30": {"Europe/Athens"}, "31": {"Europe/Amsterdam"}, "32": {"Europe/Brussels"}, "33": {"Europe/Paris"},
	"34": {"Europe/Madrid", "Atlantic/Canary"}, "36": {"Europe/Budapest"}, "39": {"Europe/Rome"},
	"40": {"Europe/Bucharest"}, "41": {"Europe/Zurich"}, "43": {"Europe/Vienna"}, "44": {"Europe/London"},
	"45": {"Europe/Copenhagen"}, "46": {"Europe/Stockholm"}, "47": {"Europe/Oslo"}, "48": {"Europe/Warsaw"},
	"49": {"Europe/Berlin"},
	"51": {"America/Lima"}, "52": {"America/Mexico_City", "America/Cancun", "America/Merida", "America/Monterrey", "America/Chihuahua", "America/Mazatlan", "America/Hermosillo", "America/Tijuana"},
	"53": {"America/Havana"}, "54": {"America/Argentina/Buenos_Aires"},
	"55": {"America/Sao_Paulo", "America/Fortaleza", "America/Recife", "America/Bahia", "America/Belem", "America/Manaus", "America/Cuiaba", "America/Campo_Grande", "America/Porto_Velho", "America/Rio_Branco", "America/Boa_Vista"},
	"56": {"America/Santiago"}, "57": {"America/Bogota"}, "58": {"America/Caracas"},
	"60": {"Asia/Kuala_Lumpur"}, "61": {"Australia/Sydney", "Australia/Melbourne", "Australia/Brisbane", "Australia/Perth", "Australia/Adelaide", "Australia/Hobart", "Australia/Darwin"},
	"62": {"Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura", "Asia/Pontianak"},
	"63": {"Asia/Manila"}, "64": {"Pacific/Auckland"}, "65": {"Asia/Singapore"}, "66": {"Asia/Bangkok"},
	"81": {"Asia/Tokyo"}, "82": {"Asia/Seoul"}, "84": {"Asia/Ho_Chi_Minh"}, "86": {"Asia/Shanghai"},
	"90": {"Europe/Istanbul"}, "91": {"Asia/Kolkata"}, "92": {"Asia/Karachi"}, "93": {"Asia/Kabul"},
	"94": {"Asia/Colombo"}, "95": {"Asia/Yangon"}, "98": {"Asia/Tehran"},
	"211": {"Africa/Juba"}, "212": {"Africa/Casablanca"}, "213": {"Africa/Algiers"}, "216": {"Africa/Tunis"},
	"218": {"Africa/Tripoli"}, "220": {"Africa/Banjul"}, "221": {"Africa/Dakar"}, "222": {"Africa/Nouakchott"},
	"223": {"Africa/Bamako"}, "224": {"Africa/Conakry"}, "225": {"Africa/Abidjan"}, "226": {"Africa/Ouagadougou"},
	"227": {"Africa/Niamey"}, "228": {"Africa/Lome"}, "229": {"Africa/Porto-Novo"}, "230": {"Indian/Mauritius"},
	"231": {"Africa/Monrovia"}, "232": {"Africa/Freetown"}, "233": {"Africa/Accra"}, "234": {"Africa/Lagos"},
	"235": {"Africa/Ndjamena"}, "236": {"Africa/Bangui"}, "237": {"Africa/Douala"}, "238": {"Atlantic/Cape_Verde"},
	"239": {"Africa/Sao_Tome"}, "240": {"Africa/Malabo"}, "241": {"Africa/Libreville"}, "242": {"Africa/Brazzaville"},
	"243": {"Africa/Kinshasa", "Africa/Lubumbashi"}, "244": {"Africa/Luanda"}, "245": {"Africa/Bissau"},
	"248": {"Indian/Mahe"}, "249": {"Africa/Khartoum"}, "250": {"Africa/Kigali"}, "251": {"Africa/Addis_Ababa"},
	"252": {"Africa/Mogadishu"}, "253": {"Africa/Djibouti"}, "254": {"Africa/Nairobi"}, "255": {"Africa/Dar_es_Salaam"},
	"256": {"Africa/Kampala"}, "257": {"Africa/Bujumbura"}, "258": {"Africa/Maputo"}, "260": {"Africa/Lusaka"},
	"261": {"Indian/Antananarivo"}, "262": {"Indian/Reunion"}, "263": {"Africa/Harare"}, "264": {"Africa/Windhoek"},
	"265": {"Africa/Blantyre"}, "266": {"Africa/Maseru"}, "267": {"Africa/Gaborone"}, "268": {"Africa/Mbabane"},
	"269": {"Indian/Comoro"}, "297": {"America/Aruba"}, "298": {"Atlantic/Faroe"}, "299": {"America/Nuuk"},
	"350": {"Europe/Gibraltar"}, "351": {"Europe/Lisbon", "Atlantic/Azores", "Atlantic/Madeira"}, "352": {"Europe/Luxembourg"},
	"353": {"Europe/Dublin"}, "354": {"Atlantic/Reykjavik"}, "355": {"Europe/Tirane"}, "356": {"Europe/Malta"},
	"357": {"Asia/Nicosia"}, "358": {"Europe/Helsinki"}, "359": {"Europe/Sofia"}, "370": {"Europe/Vilnius"},
	"371": {"Europe/Riga"}, "372": {"Europe/Tallinn"}, "373": {"Europe/Chisinau"}, "374": {"Asia/Yerevan"},
	"375": {"Europe/Minsk"}, "376": {"Europe/Andorra"}, "377": {"Europe/Monaco"}, "378": {"Europe/San_Marino"},
	"379": {"Europe/Vatican"}, "380": {"Europe/Kyiv"}, "381": {"Europe/Belgrade"}, "382": {"Europe/Podgorica"},
	"383": {"Europe/Belgrade"}, "385": {"Europe/Zagreb"}, "386": {"Europe/Ljubljana"}, "387": {"Europe/Sarajevo"},
	"389": {"Europe/Skopje"}, "420": {"Europe/Prague"}, "421": {"Europe/Bratislava"}, "423": {"Europe/Vaduz"},
	"500": {"Atlantic/Stanley"}, "501": {"America/Belize"}, "502": {"America/Guatemala"}, "503": {"America/El_Salvador"},
	"504": {"America/Tegucigalpa"}, "505": {"America/Managua"}, "506": {"America/Costa_Rica"}, "507": {"America/Panama"},
	"509": {"America/Port-au-Prince"}, "590": {"America/Guadeloupe"}, "591": {"America/La_Paz"},
	"592": {"America/Guyana"}, "593": {"America/Guayaquil", "Pacific/Galapagos"}, "594": {"America/Cayenne"},
	"595": {"America/Asuncion"}, "596": {"America/Martinique"}, "597": {"America/Paramaribo"},
	"598": {"America/Montevideo"}, "599": {"America/Curacao"},
	"670": {"Asia/Dili"}, "673": {"Asia/Brunei"}, "675": {"Pacific/Port_Moresby"}, "676": {"Pacific/Tongatapu"},
	"679": {"Pacific/Fiji"}, "685": {"Pacific/Apia"}, "687": {"Pacific/Noumea"}, "689": {"Pacific/Tahiti"},
	"852": {"Asia/Hong_Kong"}, "853": {"Asia/Macau"}, "855": {"Asia/Phnom_Penh"}, "856": {"Asia/Vientiane"},
	"880": {"Asia/Dhaka"}, "886": {"Asia/Taipei"},
	"960": {"Indian/Maldives"}, "961": {"Asia/Beirut"}, "962": {"Asia/Amman"}, "963": {"Asia/Damascus"},
	"964": {"Asia/Baghdad"}, "965": {"Asia/Kuwait"}, "966": {"Asia/Riyadh"}, "967": {"Asia/Aden"},
	"968": {"Asia/Muscat"}, "970": {"Asia/Hebron"}, "971": {"Asia/Dubai"}, "972": {"Asia/Jerusalem"},
	"973": {"Asia/Bahrain"}, "974": {"Asia/Qatar"}, "975": {"Asia/Thimphu"}, "976": {"Asia/Ulaanbaatar"},
	"977": {"Asia/Kathmandu"}, "992": {"Asia/Dushanbe"}, "993": {"Asia/Ashgabat"}, "994": {"Asia/Baku"},
	"995": {"Asia/Tbilisi"}, "996": {"Asia/Bishkek"}, "998": {"Asia/Tashkent"},
}

// regionTwice lists the prefixes regionZones was given twice (a test
// keeps it empty).
var regionTwice []string

// regionZones maps number prefixes (calling code included) to the zone of
// their region, where a country's main zone would be wrong.
var regionZones = func() map[string]string {
	m := map[string]string{}
	add := func(prefix, zone string, codes ...string) {
		for _, c := range codes {
			if _, ok := m[prefix+c]; ok {
				regionTwice = append(regionTwice, prefix+c)
			}
			m[prefix+c] = zone
		}
	}
	// North America: area codes by zone (the United States' Eastern zone
	// as New York: Detroit, Indianapolis and Louisville keep the same
	// clock today). Area codes split between two zones are left out.
	add("1", "America/New_York", "201", "202", "203", "207", "212", "215", "216", "220", "223", "229", "231", "234",
		"239", "240", "248", "252", "260", "267", "269", "272", "276", "301", "302", "304", "305", "313", "315", "317",
		"321", "330", "332", "336", "339", "347", "351", "352", "380", "386", "401", "404", "407", "410", "412", "413",
		"419", "423", "434", "440", "443", "445", "463", "470", "475", "478", "484", "502", "508", "513", "516", "517",
		"518", "540", "551", "561", "567", "570", "571", "574", "585", "586", "603", "606", "607", "609", "610", "614",
		"616", "617", "631", "640", "646", "667", "678", "680", "681", "689", "703", "704", "706", "716", "717", "718",
		"724", "727", "732", "734", "740", "743", "754", "757", "762", "765", "770", "772", "774", "781", "786", "802",
		"803", "804", "810", "813", "814", "828", "838", "843", "845", "848", "854", "856", "857", "859", "860", "862",
		"863", "864", "865", "878", "904", "908", "910", "912", "914", "917", "919", "929", "934", "937", "941", "943",
		"947", "954", "959", "973", "978", "980", "984", "989")
	add("1", "America/Chicago", "205", "210", "214", "217", "218", "224", "225", "228", "251", "254", "256", "262",
		"270", "274", "281", "309", "312", "314", "316", "318", "319", "320", "325", "331", "334", "337", "346", "361",
		"402", "405", "409", "414", "417", "430", "447", "464", "469", "479", "501", "504", "507", "512", "515", "531",
		"534", "539", "563", "573", "580", "601", "608", "612", "615", "618", "620", "629", "630", "636", "641", "651",
		"659", "660", "662", "682", "701", "708", "712", "713", "715", "726", "731", "737", "763", "769", "773", "779",
		"785", "806", "815", "816", "817", "830", "832", "847", "870", "872", "901", "903", "913", "918", "920", "931",
		"936", "938", "940", "952", "956", "972", "975", "979", "985")
	add("1", "America/Denver", "303", "307", "385", "406", "435", "505", "575", "719", "720", "801", "915", "970", "983")
	add("1", "America/Boise", "208", "986")
	add("1", "America/Phoenix", "480", "520", "602", "623", "928")
	add("1", "America/Los_Angeles", "206", "209", "213", "253", "279", "310", "323", "341", "350", "360", "408", "415",
		"424", "425", "442", "458", "503", "509", "510", "530", "541", "559", "562", "564", "619", "626", "628", "650",
		"657", "661", "669", "702", "707", "714", "725", "747", "760", "775", "805", "818", "820", "831", "840", "858",
		"909", "916", "925", "949", "951", "971")
	add("1", "America/Anchorage", "907")
	add("1", "Pacific/Honolulu", "808")
	add("1", "America/Toronto", "226", "249", "289", "343", "365", "367", "416", "418", "437", "438", "450", "514",
		"519", "548", "579", "581", "613", "647", "705", "819", "873", "905")
	add("1", "America/Winnipeg", "204", "431")
	add("1", "America/Regina", "306", "639")
	add("1", "America/Edmonton", "368", "403", "587", "780", "825")
	add("1", "America/Vancouver", "236", "250", "604", "672", "778")
	add("1", "America/Halifax", "782", "902")
	add("1", "America/Moncton", "506")
	add("1", "America/St_Johns", "709")
	// The Caribbean and Pacific countries and territories within +1.
	for code, zone := range map[string]string{"242": "America/Nassau", "246": "America/Barbados", "264": "America/Anguilla",
		"268": "America/Antigua", "284": "America/Tortola", "340": "America/St_Thomas", "345": "America/Cayman",
		"441": "Atlantic/Bermuda", "473": "America/Grenada", "649": "America/Grand_Turk", "658": "America/Jamaica",
		"876": "America/Jamaica", "664": "America/Montserrat", "670": "Pacific/Saipan", "671": "Pacific/Guam",
		"684": "Pacific/Pago_Pago", "721": "America/Lower_Princes", "758": "America/St_Lucia", "767": "America/Dominica",
		"784": "America/St_Vincent", "787": "America/Puerto_Rico", "939": "America/Puerto_Rico",
		"809": "America/Santo_Domingo", "829": "America/Santo_Domingo", "849": "America/Santo_Domingo",
		"868": "America/Port_of_Spain", "869": "America/St_Kitts"} {
		add("1", zone, code)
	}
	// Brazil by DDD: everywhere else keeps São Paulo's clock.
	add("55", "America/Cuiaba", "65", "66")
	add("55", "America/Campo_Grande", "67")
	add("55", "America/Rio_Branco", "68")
	add("55", "America/Porto_Velho", "69")
	add("55", "America/Manaus", "92", "97")
	add("55", "America/Boa_Vista", "95")
	// Australia's landlines (2 New South Wales, 3 Victoria and Tasmania,
	// 7 Queensland, without summer time); 8 (South and Western Australia)
	// and mobiles (4) do not tell.
	add("61", "Australia/Sydney", "2")
	add("61", "Australia/Melbourne", "3")
	add("61", "Australia/Brisbane", "7")
	// Mexico: the regions off Mexico City's clock.
	add("52", "America/Tijuana", "664", "665", "686")
	add("52", "America/Cancun", "983", "984", "998")
	add("52", "America/Hermosillo", "662")
	add("52", "America/Mazatlan", "612", "669")
	add("52", "America/Chihuahua", "614")
	// Russia's big cities by landline code (mobiles, 9…, do not tell);
	// Kazakhstan shares +7 (76…, 77…).
	add("7", "Asia/Almaty", "6", "7")
	add("7", "Europe/Kaliningrad", "4012")
	add("7", "Europe/Samara", "846")
	add("7", "Asia/Yekaterinburg", "343", "351")
	add("7", "Asia/Omsk", "381")
	add("7", "Asia/Novosibirsk", "383")
	add("7", "Asia/Krasnoyarsk", "391")
	add("7", "Asia/Irkutsk", "395")
	add("7", "Asia/Vladivostok", "423")
	// The Canary Islands and the Azores, on their islands' clocks.
	add("34", "Atlantic/Canary", "822", "828", "922", "928")
	add("351", "Atlantic/Azores", "292", "295", "296")
	// Indonesia: Bali and Makassar.
	add("62", "Asia/Makassar", "361", "411")
	return m
}()

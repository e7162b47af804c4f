// Package corpus generates a deterministic, realistic WhatsApp Business
// inbox for search benchmarks and tests: contacts of four businesses (a
// dental clinic, a furniture showroom, a cosmetics shop, an auto-parts
// dealer) writing in Italian, English, French, Spanish and German, with names,
// numbers, plates, VINs, part numbers, typos, emoji and short replies, and a
// Zipf-shaped vocabulary so that common and rare terms both exist.
//
// The same seed always yields the same corpus, message by message, so a
// benchmark can stream it twice (bleve, then SQLite) without holding it.
package corpus

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Businesses in the corpus.
var Businesses = []string{"dental", "furniture", "cosmetics", "autoparts"}

// Message is one generated message; Lang is its true language.
type Message struct {
	ID, ConversationID, ContactID, AgentID int64
	Direction, Type, Status                string
	Labels                                 []int64
	Text                                   string
	At                                     time.Time
	Lang                                   string
}

// Contact is one generated contact.
type Contact struct {
	ID                                  int64
	Name, Phone, Username, Email, Notes string
	Tags                                []string
	Attributes                          map[string]string
	Lang, Business                      string
}

// Conversation is one generated conversation.
type Conversation struct {
	ID, ContactID, AgentID int64
	Status                 string
	Labels                 []int64
}

// Corpus is the generated world: contacts and conversations. Messages are
// streamed by Messages.
type Corpus struct {
	Seed          uint64
	Now           time.Time // the corpus's "now": messages span the 540 days before it
	Contacts      []Contact
	Conversations []Conversation
	convsOf       [][]int // contact index → conversation indexes
	rare          []string
	contactZipf   *zipf
	rareZipf      *zipf
	rareOnce      sync.Once
	rareIdx       map[string]int
}

// Span is how far back messages go.
const Span = 540 * 24 * time.Hour

// Labels are the label ids conversations carry (1..NumLabels).
const NumLabels = 12

// NumAgents is how many agents answer (ids 1..NumAgents).
const NumAgents = 15

// New generates contacts (and their conversations) from seed.
func New(seed uint64, contacts int) *Corpus {
	r := rand.New(rand.NewPCG(seed, 0x5e4db0c5))
	c := &Corpus{Seed: seed, Now: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)}
	c.rare = rareWords(r, 40000)
	c.rareZipf = newZipf(len(c.rare), 1.07)
	c.contactZipf = newZipf(contacts, 0.9)
	convID := int64(0)
	for i := range contacts {
		l := pickLang(r)
		lg := langs[l]
		biz := Businesses[r.IntN(len(Businesses))]
		first := pickZ(r, lg.first, 1.0)
		last := pickZ(r, lg.last, 0.8)
		ct := Contact{ID: int64(i + 1), Lang: l, Business: biz}
		switch x := r.IntN(100); {
		case x < 70:
			ct.Name = first + " " + last
		case x < 85:
			ct.Name = first
		case x < 92:
			ct.Name = first + " " + pick(r, []string{"🦷", "🛋️", "💄", "🚗", "☀️", "🌸", "⚽"})
		default:
			ct.Name = strings.ToUpper(first[:1]) + ". " + last
		}
		ct.Phone = lg.phone(r)
		if r.IntN(100) < 30 {
			ct.Username = strings.ToLower(fold(first)) + strconv.Itoa(r.IntN(99))
		}
		if r.IntN(100) < 40 {
			ct.Email = strings.ToLower(fold(first)+"."+fold(strings.ReplaceAll(last, " ", ""))) + "@" + pick(r, lg.mail)
		}
		for range r.IntN(3) {
			ct.Tags = append(ct.Tags, pick(r, tags))
		}
		ct.Attributes = map[string]string{"city": pick(r, lg.cities)}
		if biz == "autoparts" {
			ct.Attributes["car"] = pick(r, cars)
			ct.Attributes["plate"] = lg.plate(r)
		}
		if biz == "furniture" && r.IntN(2) == 0 {
			ct.Attributes["address"] = pick(r, lg.streets) + " " + strconv.Itoa(1+r.IntN(120))
		}
		if r.IntN(100) < 20 {
			ct.Notes = fill(r, c, lg, &ct, pick(r, lg.notes))
		}
		c.Contacts = append(c.Contacts, ct)
		var mine []int
		for range 1 + r.IntN(3) {
			convID++
			cv := Conversation{ID: convID, ContactID: ct.ID, AgentID: int64(1 + r.IntN(NumAgents))}
			switch x := r.IntN(100); {
			case x < 60:
				cv.Status = "resolved"
			case x < 80:
				cv.Status = "open"
			case x < 90:
				cv.Status = "pending"
			default:
				cv.Status = "snoozed"
			}
			for range r.IntN(3) {
				cv.Labels = append(cv.Labels, int64(1+pickZIndex(r, NumLabels, 0.8)))
			}
			cv.Labels = uniq(cv.Labels)
			mine = append(mine, len(c.Conversations))
			c.Conversations = append(c.Conversations, cv)
		}
		c.convsOf = append(c.convsOf, mine)
	}
	return c
}

// Messages streams n messages, ids 1..n in time order, to fn; fn returns
// false to stop. The stream depends only on the seed and n.
func (c *Corpus) Messages(n int, fn func(*Message) bool) {
	r := rand.New(rand.NewPCG(c.Seed, 0x3e55a9e5))
	start := c.Now.Add(-Span)
	step := float64(Span) / float64(n)
	for i := range n {
		// Hot contacts write a lot, most write a little.
		var ci int
		if r.IntN(2) == 0 {
			ci = c.contactZipf.pick(r)
		} else {
			ci = r.IntN(len(c.Contacts))
		}
		ct := &c.Contacts[ci]
		convs := c.convsOf[ci]
		cv := &c.Conversations[convs[len(convs)-1]]
		if len(convs) > 1 && r.IntN(3) == 0 {
			cv = &c.Conversations[convs[r.IntN(len(convs))]]
		}
		lg := langs[ct.Lang]
		m := &Message{
			ID: int64(i + 1), ConversationID: cv.ID, ContactID: ct.ID,
			Status: cv.Status, Labels: cv.Labels, Lang: ct.Lang,
			At: start.Add(time.Duration(float64(i)*step) + time.Duration(r.IntN(60))*time.Second),
		}
		inbound := r.IntN(100) < 56
		if inbound {
			m.Direction = "inbound"
		} else {
			m.Direction = "outbound"
			m.AgentID = cv.AgentID
		}
		m.Type, m.Text = c.text(r, lg, ct, inbound)
		if !fn(m) {
			return
		}
	}
}

// text picks a message type and writes its text.
func (c *Corpus) text(r *rand.Rand, lg *lang, ct *Contact, inbound bool) (typ, text string) {
	b := lg.biz[ct.Business]
	x := r.IntN(100)
	switch {
	case x < 3:
		return "image", "" // a photo without caption
	case x < 9:
		return "image", fill(r, c, lg, ct, pick(r, b.captions))
	case x < 11:
		return pick(r, []string{"audio", "sticker", "document"}), ""
	case x < 12:
		return "location", pick(r, lg.streets) + " " + strconv.Itoa(1+r.IntN(120)) + ", " + pick(r, lg.cities)
	case x < 15 && !inbound:
		return "template", fill(r, c, lg, ct, pick(r, b.templates))
	case x < 18 && inbound:
		return "interactive", pickZ(r, lg.buttons, 1.0)
	}
	var t string
	switch y := r.IntN(100); {
	case y < 24: // short replies: "ok", "grazie!", "👍"
		t = pickZ(r, lg.short, 1.1)
	case y < 30:
		t = pickZ(r, lg.greet, 1.0)
		if r.IntN(2) == 0 {
			t += ", " + fill(r, c, lg, ct, pickZ(r, b.in, 0.6))
		}
	case inbound:
		t = fill(r, c, lg, ct, pickZ(r, b.in, 0.6))
	default:
		if r.IntN(3) == 0 {
			t = fill(r, c, lg, ct, pickZ(r, lg.agent, 0.8))
		} else {
			t = fill(r, c, lg, ct, pickZ(r, b.out, 0.6))
		}
	}
	if inbound && r.IntN(100) < 6 {
		t = typo(r, t)
	}
	if inbound && r.IntN(100) < 12 {
		t = strings.ToLower(t)
	}
	if r.IntN(100) < 14 {
		t += " " + pickZ(r, emoji, 1.0)
	}
	return "text", t
}

// fill replaces {slots} in a template.
func fill(r *rand.Rand, c *Corpus, lg *lang, ct *Contact, t string) string {
	if !strings.Contains(t, "{") {
		return t
	}
	var sb strings.Builder
	for {
		i := strings.IndexByte(t, '{')
		if i < 0 {
			sb.WriteString(t)
			return sb.String()
		}
		j := strings.IndexByte(t[i:], '}')
		if j < 0 {
			sb.WriteString(t)
			return sb.String()
		}
		sb.WriteString(t[:i])
		sb.WriteString(c.slot(r, lg, ct, t[i+1:i+j]))
		t = t[i+j+1:]
	}
}

func (c *Corpus) slot(r *rand.Rand, lg *lang, ct *Contact, name string) string {
	switch name {
	case "first":
		return strings.Fields(ct.Name)[0]
	case "last":
		return pickZ(r, lg.last, 0.8)
	case "agent":
		return pick(r, lg.first)
	case "date":
		return lg.date(r)
	case "day":
		return pick(r, lg.days)
	case "time":
		return fmt.Sprintf("%d:%02d", 8+r.IntN(11), 15*r.IntN(4))
	case "price":
		return lg.price(r)
	case "order":
		return strconv.Itoa(10000 + r.IntN(90000))
	case "plate":
		if p, ok := ct.Attributes["plate"]; ok && r.IntN(3) > 0 {
			return p
		}
		return lg.plate(r)
	case "vin":
		return vin(r)
	case "partno":
		return partNo(r)
	case "car":
		if car, ok := ct.Attributes["car"]; ok && r.IntN(2) == 0 {
			return car
		}
		return pickZ(r, cars, 0.9)
	case "model":
		return title(c.rare[c.rareZipf.pick(r)])
	case "rare":
		return c.rare[c.rareZipf.pick(r)]
	case "city":
		return pick(r, lg.cities)
	case "n":
		return strconv.Itoa(1 + r.IntN(6))
	}
	if vs, ok := lg.slots[name]; ok {
		return pickZ(r, vs, 0.9)
	}
	return name
}

// typo damages one longer word: a dropped, doubled, swapped or wrong letter.
func typo(r *rand.Rand, t string) string {
	ws := strings.Fields(t)
	var cand []int
	for i, w := range ws {
		if len([]rune(w)) >= 6 && isWord(w) {
			cand = append(cand, i)
		}
	}
	if len(cand) == 0 {
		return t
	}
	i := cand[r.IntN(len(cand))]
	w := []rune(ws[i])
	p := 1 + r.IntN(len(w)-2)
	switch r.IntN(4) {
	case 0:
		w = append(w[:p], w[p+1:]...)
	case 1:
		w = append(w[:p+1], w[p:]...)
	case 2:
		w[p], w[p+1] = w[p+1], w[p]
	default:
		w[p] = rune("aeiourstnl"[r.IntN(10)])
	}
	ws[i] = string(w)
	return strings.Join(ws, " ")
}

func isWord(w string) bool {
	for _, r := range w {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r > 0xbf && r < 0x250) {
			return false
		}
	}
	return true
}

func vin(r *rand.Rand) string {
	const cs = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
	wmi := []string{"WVW", "WBA", "ZFA", "VF1", "VF3", "WAU", "VSS", "TMB", "SJN", "JTD"}
	b := []byte(pick(r, wmi))
	for len(b) < 17 {
		b = append(b, cs[r.IntN(len(cs))])
	}
	return string(b)
}

func partNo(r *rand.Rand) string {
	const up = "ABCDEFGHJKLMNPRSTUVWXZ"
	d := func(n int) string {
		var sb strings.Builder
		for range n {
			sb.WriteByte(byte('0' + r.IntN(10)))
		}
		return sb.String()
	}
	switch r.IntN(5) {
	case 0: // VAG style
		return fmt.Sprintf("%s%c%s %s %s", d(1), up[r.IntN(len(up))], d(1), d(3), d(3))
	case 1:
		return fmt.Sprintf("%s%c%s-%s-%s-%c%c", d(1), up[r.IntN(len(up))], d(1), d(3), d(3), up[r.IntN(len(up))], up[r.IntN(len(up))])
	case 2: // Renault style
		return "77" + d(8)
	case 3:
		return fmt.Sprintf("%c%c%s", up[r.IntN(len(up))], up[r.IntN(len(up))], d(6))
	default: // Bosch style
		return "0 " + d(3) + " " + d(3) + " " + d(3)
	}
}

// rareWords makes pronounceable pseudo-words: model names, fabrics, street
// names; with a Zipf pick most are rare, a few common.
func rareWords(r *rand.Rand, n int) []string {
	on := []string{"b", "br", "c", "ch", "d", "f", "g", "gr", "k", "l", "m", "n", "p", "pr", "r", "s", "st", "t", "tr", "v", "z"}
	vo := []string{"a", "e", "i", "o", "u", "ia", "ai", "ou", "ei"}
	co := []string{"", "", "", "n", "r", "l", "s", "x", "nt", "rd"}
	seen := map[string]bool{}
	out := make([]string, 0, n)
	for len(out) < n {
		var sb strings.Builder
		for range 2 + r.IntN(2) {
			sb.WriteString(on[r.IntN(len(on))])
			sb.WriteString(vo[r.IntN(len(vo))])
		}
		sb.WriteString(co[r.IntN(len(co))])
		w := sb.String()
		if !seen[w] && len(w) >= 5 {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// Rare returns the k-th pseudo-word (0 = the most frequent).
func (c *Corpus) Rare(k int) string { return c.rare[k] }

// RareRank returns the rank of a pseudo-word (lowercase), if w is one.
func (c *Corpus) RareRank(w string) (int, bool) {
	c.rareOnce.Do(func() {
		c.rareIdx = make(map[string]int, len(c.rare))
		for i, r := range c.rare {
			c.rareIdx[r] = i
		}
	})
	k, ok := c.rareIdx[w]
	return k, ok
}

func title(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

func fold(s string) string {
	return strings.NewReplacer("à", "a", "á", "a", "â", "a", "ä", "ae", "è", "e", "é", "e", "ê", "e", "ë", "e",
		"ì", "i", "í", "i", "î", "i", "ï", "i", "ò", "o", "ó", "o", "ô", "o", "ö", "oe", "ù", "u", "ú", "u",
		"û", "u", "ü", "ue", "ñ", "n", "ç", "c", "ß", "ss", "'", "").Replace(s)
}

func uniq(v []int64) []int64 {
	sort.Slice(v, func(i, j int) bool { return v[i] < v[j] })
	out := v[:0]
	for i, x := range v {
		if i == 0 || x != v[i-1] {
			out = append(out, x)
		}
	}
	return out
}

func pick(r *rand.Rand, s []string) string { return s[r.IntN(len(s))] }

// pickZ picks with Zipf weights: the first entries of s are the common ones.
func pickZ(r *rand.Rand, s []string, exp float64) string {
	return s[pickZIndex(r, len(s), exp)]
}

var zipfCache struct {
	sync.Mutex
	m map[[2]int]*zipf
}

func pickZIndex(r *rand.Rand, n int, exp float64) int {
	k := [2]int{n, int(exp * 1000)}
	zipfCache.Lock()
	z := zipfCache.m[k]
	if z == nil {
		if zipfCache.m == nil {
			zipfCache.m = map[[2]int]*zipf{}
		}
		z = newZipf(n, exp)
		zipfCache.m[k] = z
	}
	zipfCache.Unlock()
	return z.pick(r)
}

// zipf samples 0..n-1 with weight 1/(k+1)^s.
type zipf struct{ cum []float64 }

func newZipf(n int, s float64) *zipf {
	z := &zipf{cum: make([]float64, n)}
	t := 0.0
	for k := range n {
		t += 1 / math.Pow(float64(k+1), s)
		z.cum[k] = t
	}
	for k := range z.cum {
		z.cum[k] /= t
	}
	return z
}

func (z *zipf) pick(r *rand.Rand) int {
	return min(sort.SearchFloat64s(z.cum, r.Float64()), len(z.cum)-1)
}

func pickLang(r *rand.Rand) string {
	switch x := r.IntN(100); {
	case x < 35:
		return "it"
	case x < 55:
		return "en"
	case x < 70:
		return "fr"
	case x < 85:
		return "es"
	default:
		return "de"
	}
}

var tags = []string{"vip", "new", "b2b", "complaint", "newsletter", "supplier", "returning", "wholesale", "influencer", "late-payer"}

var emoji = []string{"👍", "🙏", "😊", "😀", "❤️", "😅", "👌", "🙂", "😂", "🔥", "✅", "🤔", "😍", "🛋️", "🦷", "🚗", "💄"}

var cars = []string{"Fiat Panda 1.2", "VW Golf 7 1.6 TDI", "Peugeot 208", "Renault Clio IV", "Ford Fiesta", "VW Polo",
	"Audi A3 Sportback", "BMW 118d", "Toyota Yaris Hybrid", "Opel Corsa", "Seat Ibiza", "Citroën C3", "Skoda Octavia",
	"Dacia Sandero", "Mercedes A180", "Fiat 500", "Lancia Ypsilon", "Nissan Qashqai", "Renault Mégane", "Alfa Romeo Giulietta"}

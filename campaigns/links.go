package campaigns

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"sendbox/store"
	"sendbox/whatsapp"
)

// Tracked links: WhatsApp tells a business nothing about a tap on a link
// button. A campaign can fill a link button's {{1}} with a token instead
// (the template's link is then sendbox's own, <public address>/r/{{1}}):
// opening it marks the recipient clicked and redirects to the page the
// campaign names. The token carries the recipient and the button, signed
// with a key kept in the settings, so nothing is stored per send and
// nobody can forge a click or choose where the redirect goes.

// LinkPath is where tracked links point, on sendbox's public address.
const LinkPath = "/r/"

const linkKeySetting = "campaigns.link_key"

// ErrUnknownLink is a token that is not one sendbox signed, or whose
// recipient or link no longer exists.
var ErrUnknownLink = errors.New("this link is not known: it may have been mistyped, or its campaign deleted")

func (s *Service) linkKey(ctx context.Context) ([]byte, error) {
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	if s.key != nil {
		return s.key, nil
	}
	b := make([]byte, 32)
	rand.Read(b)
	v, err := s.Store.InitSetting(ctx, linkKeySetting, hex.EncodeToString(b))
	if err != nil {
		return nil, fmt.Errorf("link key: %w", err)
	}
	key, err := hex.DecodeString(v)
	if err != nil || len(key) < 16 {
		return nil, fmt.Errorf("link key: the stored %s is damaged", linkKeySetting)
	}
	s.key = key
	return key, nil
}

func linkMAC(key []byte, id string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("tracked link\x00" + id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:12])
}

// linkToken is recipient r's token for button i: "<r in base 36>.<i>.<mac>".
func linkToken(key []byte, recipientID int64, button int) string {
	id := strconv.FormatInt(recipientID, 36) + "." + strconv.Itoa(button)
	return id + "." + linkMAC(key, id)
}

// Click records a tap on a tracked link and returns where it leads.
func (s *Service) Click(ctx context.Context, token string) (string, error) {
	dest, r, err := s.link(ctx, token)
	if err != nil {
		return "", err
	}
	if _, err := s.Store.RecordClick(ctx, r.ID, s.now()); err != nil {
		return "", err
	}
	return dest, nil
}

// LinkDestination is where a tracked link leads, without counting a click.
func (s *Service) LinkDestination(ctx context.Context, token string) (string, error) {
	dest, _, err := s.link(ctx, token)
	return dest, err
}

// link reads a tracked link's token: where it leads, and whose it is.
func (s *Service) link(ctx context.Context, token string) (string, *store.Recipient, error) {
	key, err := s.linkKey(ctx)
	if err != nil {
		return "", nil, err
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 || !hmac.Equal([]byte(parts[2]), []byte(linkMAC(key, parts[0]+"."+parts[1]))) {
		return "", nil, ErrUnknownLink
	}
	rid, err1 := strconv.ParseInt(parts[0], 36, 64)
	button, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return "", nil, ErrUnknownLink
	}
	r, err := s.Store.RecipientByID(ctx, rid)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil, ErrUnknownLink
	}
	if err != nil {
		return "", nil, err
	}
	sc, err := s.Store.CampaignByID(ctx, r.CampaignID)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil, ErrUnknownLink
	}
	if err != nil {
		return "", nil, err
	}
	c, err := decode(sc)
	if err != nil {
		return "", nil, err
	}
	if len(c.VariantList) == 0 {
		return "", nil, ErrUnknownLink
	}
	p, ok := c.variantFor(r).Params[whatsapp.ButtonVariable(button)]
	if !ok || p.Source != SourceTrackedLink || p.Value == "" {
		return "", nil, ErrUnknownLink
	}
	return p.Value, r, nil
}

// public reports whether customers' phones could reach host: not a
// loopback, unspecified or private address, nor localhost.
func public(host string) bool {
	if host == "" || strings.EqualFold(host, "localhost") {
		return false
	}
	if ip := net.ParseIP(host); ip != nil {
		return !ip.IsLoopback() && !ip.IsUnspecified() && !ip.IsPrivate() && !ip.IsLinkLocalUnicast()
	}
	return true
}

func (s *Service) baseURL() string {
	if s.BaseURL == nil {
		return ""
	}
	return s.BaseURL()
}

// TrackedLinkTemplate is the link a template's button needs for tracked
// links: sendbox's address, /r/ and the {{1}} a send fills.
func (s *Service) TrackedLinkTemplate() string {
	return strings.TrimSuffix(s.baseURL(), "/") + LinkPath + "{{1}}"
}

// checkTrackedLink says what is wrong with a tracked link on button i of a
// template whose links are urls: the destination must be a web address,
// the template's link sendbox's own /r/{{1}}, and, with real customers
// (not the sandbox), sendbox's address one their phones can open.
func checkTrackedLink(dest string, urls []string, i int, base string, sandbox bool) error {
	u, err := url.Parse(dest)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("the tracked link's destination %q is not a web address (https://…)", dest)
	}
	if b, err := url.Parse(base); !sandbox && (err != nil || !public(b.Hostname())) {
		return fmt.Errorf("customers' phones cannot open %s: tracked links need sendbox on its public address (set SENDBOX_DOMAIN)", base)
	}
	want := strings.TrimSuffix(base, "/") + LinkPath + "{{1}}"
	if i >= len(urls) || urls[i] != want {
		got := ""
		if i < len(urls) {
			got = urls[i]
		}
		return fmt.Errorf("a tracked link needs the template's button link to be %s (it is %q): create the template with that link, then pick the destination here", want, got)
	}
	return nil
}

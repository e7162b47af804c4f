package whatsapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Defaults used when the Client fields are empty. The version belongs in
// configuration (docs §1: pin it, plan a yearly upgrade); this is only the
// fallback.
const (
	DefaultBaseURL = "https://graph.facebook.com"
	DefaultVersion = "v25.0"
)

// phoneNumberFields are what PhoneNumber asks Graph for.
const phoneNumberFields = "display_phone_number,verified_name,quality_rating,throughput,name_status,whatsapp_business_manager_messaging_limit"

// Response size caps: Graph's JSON answers are small, and a misbehaving
// proxy must not make the client buffer gigabytes.
const (
	maxJSONResponse  = 1 << 20
	maxErrorResponse = 64 << 10
	errorSnippetLen  = 200
)

// Errors of the Client besides *APIError and *ValidationError.
var (
	// ErrTooLarge: the media is larger than the allowed maximum.
	ErrTooLarge = errors.New("media too large")
	// ErrBadResponse: Graph answered 2xx with a body the client cannot read.
	// For Send it means the message may have been accepted: do not resend.
	ErrBadResponse = errors.New("graph: unexpected response body")
	// ErrNotConfigured: a Client field the call needs is empty.
	ErrNotConfigured = errors.New("whatsapp client not configured")
)

// Client calls the WhatsApp Cloud API (Graph) for one business phone number.
// It holds no state beyond its configuration and is safe for concurrent use;
// do not change its fields while calls are in flight.
type Client struct {
	BaseURL       string       // e.g. "https://graph.facebook.com" (no version; a trailing slash is fine); "" means DefaultBaseURL
	Version       string       // e.g. "v25.0"; "" means DefaultVersion
	PhoneNumberID string       // the sender: sends and uploads go to /{PhoneNumberID}/…
	WABAID        string       // the WhatsApp Business Account, for templates
	AppID         string       // the Meta app, for the Resumable Upload API (media header samples)
	Token         string       // system user access token; sent as a Bearer header, never logged
	HTTP          *http.Client // nil: a shared client with sane timeouts (never http.DefaultClient, which has none)
}

// MediaInfo is Graph's answer about a media id. URL expires after 5
// minutes and must be fetched with the Bearer token (Client.Download).
type MediaInfo struct {
	ID       string
	URL      string
	MimeType string
	SHA256   string // hex, unlike the base64 of webhooks: use SHA256Matches
	FileSize int64
}

// PhoneNumberInfo is the health of the business phone number.
type PhoneNumberInfo struct {
	ID                 string
	DisplayPhoneNumber string
	VerifiedName       string
	QualityRating      string // GREEN, YELLOW, RED, UNKNOWN
	Throughput         string // throughput.level, e.g. "STANDARD"
	NameStatus         string // display name review status, e.g. "APPROVED"
	MessagingLimit     string // whatsapp_business_manager_messaging_limit, e.g. "TIER_250"
	Raw                json.RawMessage
}

// defaultHTTPClient is shared by Clients without an HTTP client so that they
// share idle connections to Graph.
var defaultHTTPClient = sync.OnceValue(func() *http.Client {
	var t *http.Transport
	if dt, ok := http.DefaultTransport.(*http.Transport); ok {
		t = dt.Clone() // keeps proxy-from-environment and HTTP/2
	} else {
		t = &http.Transport{Proxy: http.ProxyFromEnvironment, ForceAttemptHTTP2: true}
	}
	t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 10 * time.Second
	t.ResponseHeaderTimeout = 60 * time.Second
	t.ExpectContinueTimeout = time.Second
	t.IdleConnTimeout = 90 * time.Second
	// One host (graph.facebook.com) at up to 80 sends/s: the default of 2
	// idle connections per host would keep reopening TLS connections.
	t.MaxIdleConnsPerHost = 64
	// The overall limit is a backstop for a stalled body; contexts set the
	// real deadlines. It leaves room for a 100 MB download on a slow link.
	return &http.Client{Transport: t, Timeout: 10 * time.Minute}
})

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return defaultHTTPClient()
}

func (c *Client) baseURL() string {
	if c.BaseURL == "" {
		return DefaultBaseURL
	}
	return strings.TrimRight(c.BaseURL, "/")
}

// nodeURL is {base}/{version}/{node}[/{edge}].
func (c *Client) nodeURL(node, edge string) string {
	v := c.Version
	if v == "" {
		v = DefaultVersion
	}
	u := c.baseURL() + "/" + url.PathEscape(v) + "/" + url.PathEscape(node)
	if edge != "" {
		u += "/" + edge
	}
	return u
}

func (c *Client) needPhoneNumberID() error {
	if c.PhoneNumberID == "" {
		return fmt.Errorf("%w: PhoneNumberID is empty", ErrNotConfigured)
	}
	return nil
}

// sendRequest is an OutboundMessage with the field Graph requires on top.
type sendRequest struct {
	MessagingProduct string `json:"messaging_product"`
	*OutboundMessage
}

// Send validates m and posts it to /{version}/{PhoneNumberID}/messages with
// "messaging_product": "whatsapp", recipient_type "individual" unless set,
// and an individual recipient normalized to "+" and digits. m itself is not
// modified. A result means Meta accepted the message, not that it was
// delivered: that comes with status webhooks. Errors: *ValidationError,
// *APIError, ErrBadResponse, or a transport error (see Classify).
func (c *Client) Send(ctx context.Context, m *OutboundMessage) (*SendResult, error) {
	if err := c.needPhoneNumberID(); err != nil {
		return nil, err
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	msg := *m
	if msg.RecipientType == "" {
		msg.RecipientType = recipientIndividual
	}
	if msg.RecipientType == recipientIndividual {
		msg.To, _ = NormalizeRecipient(msg.To) // Validate has accepted it
	}
	body, err := json.Marshal(sendRequest{MessagingProduct: "whatsapp", OutboundMessage: &msg})
	if err != nil {
		return nil, fmt.Errorf("encode message: %w", err)
	}
	var resp struct {
		Contacts []struct {
			WaID   flexString `json:"wa_id"`
			UserID flexString `json:"user_id"`
		} `json:"contacts"`
		Messages []struct {
			ID            string `json:"id"`
			MessageStatus string `json:"message_status"`
		} `json:"messages"`
	}
	if err := c.do(ctx, http.MethodPost, c.nodeURL(c.PhoneNumberID, "messages"), "application/json", bytes.NewReader(body), int64(len(body)), &resp); err != nil {
		return nil, err
	}
	if len(resp.Messages) == 0 || resp.Messages[0].ID == "" {
		return nil, fmt.Errorf("%w: no message id in the send response", ErrBadResponse)
	}
	res := &SendResult{WAMID: resp.Messages[0].ID, MessageStatus: resp.Messages[0].MessageStatus}
	if len(resp.Contacts) > 0 {
		res.WaID = string(resp.Contacts[0].WaID)
		res.UserID = string(resp.Contacts[0].UserID)
	}
	return res, nil
}

// MarkRead marks an inbound message (and the earlier ones) as read, which
// shows the customer blue ticks. With typing, it also shows a typing
// indicator until the business replies or 25 s pass: only ask for it when a
// reply is coming.
func (c *Client) MarkRead(ctx context.Context, wamid string, typing bool) error {
	if err := c.needPhoneNumberID(); err != nil {
		return err
	}
	if strings.TrimSpace(wamid) == "" {
		return invalid("message_id", "missing_message_id", "the id (wamid) of the message to mark as read is required")
	}
	type typingIndicator struct {
		Type string `json:"type"`
	}
	req := struct {
		MessagingProduct string           `json:"messaging_product"`
		Status           string           `json:"status"`
		MessageID        string           `json:"message_id"`
		TypingIndicator  *typingIndicator `json:"typing_indicator,omitempty"`
	}{MessagingProduct: "whatsapp", Status: StatusRead, MessageID: wamid}
	if typing {
		req.TypingIndicator = &typingIndicator{Type: "text"}
	}
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("encode mark-as-read: %w", err)
	}
	var resp struct {
		Success bool `json:"success"`
	}
	if err := c.do(ctx, http.MethodPost, c.nodeURL(c.PhoneNumberID, "messages"), "application/json", bytes.NewReader(body), int64(len(body)), &resp); err != nil {
		return err
	}
	if !resp.Success {
		return fmt.Errorf("%w: mark-as-read did not answer success", ErrBadResponse)
	}
	return nil
}

// UploadMedia uploads r as a multipart POST to /{version}/{PhoneNumberID}/media
// with the fields messaging_product, type (the MIME type) and file, and
// returns the media id (valid 30 days). When r reports its size (Len, or
// Seek as files do) it is streamed; otherwise it is buffered, up to the
// largest media Meta accepts (MaxInboundMediaBytes), beyond which the error
// is ErrTooLarge.
func (c *Client) UploadMedia(ctx context.Context, filename, mimeType string, r io.Reader) (string, error) {
	if err := c.needPhoneNumberID(); err != nil {
		return "", err
	}
	if strings.TrimSpace(mimeType) == "" {
		return "", invalid("type", "missing_mime_type", "the media's MIME type is required (e.g. image/jpeg)")
	}
	if r == nil {
		return "", invalid("file", "missing_media", "the media content is required")
	}
	if filename == "" {
		filename = "file"
	}

	var head bytes.Buffer
	mw := multipart.NewWriter(&head)
	_ = mw.WriteField("messaging_product", "whatsapp") // writes to a bytes.Buffer cannot fail
	_ = mw.WriteField("type", mimeType)
	h := make(textproto.MIMEHeader)
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename="%s"`, quoteEscaper.Replace(filename)))
	h.Set("Content-Type", mimeType)
	if _, err := mw.CreatePart(h); err != nil {
		return "", fmt.Errorf("build upload: %w", err)
	}
	tail := "\r\n--" + mw.Boundary() + "--\r\n"

	size, ok := readerSize(r)
	if !ok {
		buf, err := io.ReadAll(io.LimitReader(r, MaxInboundMediaBytes+1))
		if err != nil {
			return "", fmt.Errorf("read media: %w", err)
		}
		if int64(len(buf)) > MaxInboundMediaBytes {
			return "", fmt.Errorf("%w: more than %d bytes", ErrTooLarge, int64(MaxInboundMediaBytes))
		}
		r, size = bytes.NewReader(buf), int64(len(buf))
	}
	if size > MaxInboundMediaBytes {
		return "", fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, size, int64(MaxInboundMediaBytes))
	}
	body := io.MultiReader(bytes.NewReader(head.Bytes()), io.LimitReader(r, size), strings.NewReader(tail))
	length := int64(head.Len()) + size + int64(len(tail))

	var resp struct {
		ID flexString `json:"id"`
	}
	if err := c.do(ctx, http.MethodPost, c.nodeURL(c.PhoneNumberID, "media"), mw.FormDataContentType(), body, length, &resp); err != nil {
		return "", err
	}
	if resp.ID == "" {
		return "", fmt.Errorf("%w: no media id in the upload response", ErrBadResponse)
	}
	return string(resp.ID), nil
}

// quoteEscaper escapes a filename for a Content-Disposition header, as
// mime/multipart does for CreateFormFile.
var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "\\\"", "\r", "", "\n", "")

// readerSize reports how many bytes r has left, when it can tell without
// reading: bytes/strings readers and buffers (Len), files (Seek).
func readerSize(r io.Reader) (int64, bool) {
	switch v := r.(type) {
	case interface{ Len() int }:
		return int64(v.Len()), true
	case io.Seeker:
		cur, err := v.Seek(0, io.SeekCurrent)
		if err != nil {
			return 0, false
		}
		end, err := v.Seek(0, io.SeekEnd)
		if err != nil {
			return 0, false
		}
		if _, err := v.Seek(cur, io.SeekStart); err != nil || end < cur {
			return 0, false
		}
		return end - cur, true
	}
	return 0, false
}

// MediaInfo asks Graph where to download a media id (GET /{version}/{id},
// scoped to PhoneNumberID when it is set). Fetch the URL within 5 minutes.
func (c *Client) MediaInfo(ctx context.Context, mediaID string) (*MediaInfo, error) {
	if strings.TrimSpace(mediaID) == "" {
		return nil, invalid("media_id", "missing_media_id", "the media id is required")
	}
	u := c.nodeURL(mediaID, "")
	if c.PhoneNumberID != "" {
		u += "?phone_number_id=" + url.QueryEscape(c.PhoneNumberID)
	}
	var resp struct {
		ID       flexString `json:"id"`
		URL      string     `json:"url"`
		MimeType string     `json:"mime_type"`
		SHA256   string     `json:"sha256"`
		FileSize flexInt    `json:"file_size"`
	}
	if err := c.do(ctx, http.MethodGet, u, "", nil, 0, &resp); err != nil {
		return nil, err
	}
	if resp.URL == "" {
		return nil, fmt.Errorf("%w: no url in the media response", ErrBadResponse)
	}
	return &MediaInfo{ID: string(resp.ID), URL: resp.URL, MimeType: resp.MimeType, SHA256: resp.SHA256, FileSize: int64(resp.FileSize)}, nil
}

// Download fetches a media URL from MediaInfo (or a webhook) with the Bearer
// token, which Meta requires, and copies the body to w. It refuses more than
// maxBytes (≤ 0 means MaxInboundMediaBytes) with ErrTooLarge, first from
// Content-Length and then while copying, so w receives at most maxBytes.
// It returns the number of bytes written. The URL must be https (plain http
// only when the Client itself talks http, i.e. to a local simulator), so
// the token never crosses the network in clear.
func (c *Client) Download(ctx context.Context, mediaURL string, maxBytes int64, w io.Writer) (int64, error) {
	if maxBytes <= 0 {
		maxBytes = MaxInboundMediaBytes
	}
	u, err := url.Parse(mediaURL)
	if err != nil || u.Host == "" {
		return 0, invalid("url", "invalid_url", "the media URL is not an absolute URL")
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !strings.HasPrefix(strings.ToLower(c.baseURL()), "http://") {
			return 0, invalid("url", "invalid_url", "the media URL must be https")
		}
	default:
		return 0, invalid("url", "invalid_url", "the media URL must be https")
	}
	resp, err := c.roundTrip(ctx, http.MethodGet, u.String(), "", "", nil, 0)
	if err != nil {
		return 0, err
	}
	defer closeBody(resp.Body)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return 0, c.apiError(resp)
	}
	if resp.ContentLength > maxBytes {
		return 0, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, resp.ContentLength, maxBytes)
	}
	n, err := io.Copy(w, io.LimitReader(resp.Body, maxBytes))
	if err != nil {
		return n, fmt.Errorf("download media: %w", err)
	}
	if n == maxBytes {
		var one [1]byte
		if m, _ := io.ReadFull(resp.Body, one[:]); m > 0 {
			return n, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, maxBytes)
		}
	}
	return n, nil
}

// PhoneNumber reads the business number's name, quality rating, throughput
// level and messaging limit tier.
func (c *Client) PhoneNumber(ctx context.Context) (*PhoneNumberInfo, error) {
	if err := c.needPhoneNumberID(); err != nil {
		return nil, err
	}
	var raw json.RawMessage
	if err := c.do(ctx, http.MethodGet, c.nodeURL(c.PhoneNumberID, "")+"?fields="+phoneNumberFields, "", nil, 0, &raw); err != nil {
		return nil, err
	}
	var resp struct {
		ID                 flexString `json:"id"`
		DisplayPhoneNumber flexString `json:"display_phone_number"`
		VerifiedName       string     `json:"verified_name"`
		QualityRating      string     `json:"quality_rating"`
		NameStatus         string     `json:"name_status"`
		Throughput         struct {
			Level string `json:"level"`
		} `json:"throughput"`
		MessagingLimit json.RawMessage `json:"whatsapp_business_manager_messaging_limit"`
	}
	if !isJSONObject(raw) {
		return nil, fmt.Errorf("%w: phone number is not an object", ErrBadResponse)
	}
	_ = decodeLenient(raw, &resp)
	info := &PhoneNumberInfo{
		ID:                 string(resp.ID),
		DisplayPhoneNumber: string(resp.DisplayPhoneNumber),
		VerifiedName:       resp.VerifiedName,
		QualityRating:      resp.QualityRating,
		Throughput:         resp.Throughput.Level,
		NameStatus:         resp.NameStatus,
		Raw:                raw,
	}
	// The tier is documented as a string ("TIER_250"); an object form is
	// read through its likely keys, and Raw keeps it either way.
	if lim := resp.MessagingLimit; len(lim) > 0 {
		if lim[0] == '"' {
			info.MessagingLimit, _ = jsonString(lim)
		} else if lim[0] == '{' {
			var obj struct {
				Tier         string `json:"tier"`
				CurrentLimit string `json:"current_limit"`
				Limit        string `json:"messaging_limit"`
			}
			_ = decodeLenient(lim, &obj)
			info.MessagingLimit = joinNonEmpty("", obj.Tier, obj.CurrentLimit, obj.Limit)
		}
	}
	return info, nil
}

// do performs a Graph call and decodes a 2xx JSON answer into out.
func (c *Client) do(ctx context.Context, method, u, contentType string, body io.Reader, length int64, out any) error {
	resp, err := c.roundTrip(ctx, method, u, contentType, "application/json", body, length)
	if err != nil {
		return err
	}
	defer closeBody(resp.Body)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return c.apiError(resp)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxJSONResponse))
	if err != nil {
		return fmt.Errorf("graph: read response: %w", err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		var typeErr *json.UnmarshalTypeError
		if !errors.As(err, &typeErr) {
			return fmt.Errorf("%w: %s", ErrBadResponse, c.snippet(b))
		}
	}
	return nil
}

// roundTrip sends one authenticated request. The token goes only in the
// Authorization header, never in the URL, so that transport errors (which
// quote the URL) cannot leak it.
func (c *Client) roundTrip(ctx context.Context, method, u, contentType, accept string, body io.Reader, length int64) (*http.Response, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, fmt.Errorf("graph: build request: %w", err)
	}
	if body != nil {
		req.ContentLength = length
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	req.Header.Set("User-Agent", "sendbox")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return nil, fmt.Errorf("graph: %w", err)
	}
	return resp, nil
}

// closeBody drains a little of what is left so the connection can be reused.
func closeBody(rc io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(rc, 4<<10))
	_ = rc.Close()
}

// apiError reads a non-2xx answer into an *APIError.
func (c *Client) apiError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorResponse))
	e := &APIError{HTTPStatus: resp.StatusCode}
	var w struct {
		Error *struct {
			Message        string          `json:"message"`
			Type           string          `json:"type"`
			Code           flexInt         `json:"code"`
			ErrorSubcode   flexInt         `json:"error_subcode"`
			ErrorData      json.RawMessage `json:"error_data"`
			ErrorUserTitle string          `json:"error_user_title"`
			ErrorUserMsg   string          `json:"error_user_msg"`
			IsTransient    bool            `json:"is_transient"`
			FBTraceID      string          `json:"fbtrace_id"`
		} `json:"error"`
	}
	if isJSONObject(b) && decodeLenient(b, &w) == nil && w.Error != nil {
		g := w.Error
		e.Code = int(g.Code)
		e.Subcode = int(g.ErrorSubcode)
		e.Type = c.redact(g.Type)
		e.Message = c.redact(g.Message)
		e.Title = c.redact(g.ErrorUserTitle)
		e.UserMessage = c.redact(g.ErrorUserMsg)
		e.Details = c.redact(errorDetails(g.ErrorData))
		e.IsTransient = g.IsTransient
		e.FBTraceID = c.redact(g.FBTraceID)
		return e
	}
	e.Message = c.snippet(b)
	return e
}

// snippet makes a short single-line excerpt of a body for an error message.
func (c *Client) snippet(b []byte) string {
	// Redact before cutting, so that no prefix of the token survives the cut.
	s := c.redact(strings.ToValidUTF8(string(b), ""))
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > errorSnippetLen {
		cut := errorSnippetLen
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// redact removes the access token from text taken from a response: a proxy
// or a debugging endpoint may echo the request back.
func (c *Client) redact(s string) string {
	if c.Token == "" || !strings.Contains(s, c.Token) {
		return s
	}
	return strings.ReplaceAll(s, c.Token, "[redacted]")
}

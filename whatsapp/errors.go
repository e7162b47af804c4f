package whatsapp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// APIError is a Graph API error response (docs §9.1), or any non-2xx answer
// that did not carry one (then only HTTPStatus and Message, a snippet of the
// body, are set). Build logic on Code and Subcode: Meta is deprecating the
// "(#code) Title" text inside Message.
type APIError struct {
	HTTPStatus  int
	Code        int    // error.code, e.g. 131026; 0 when the body had none
	Subcode     int    // error.error_subcode
	Type        string // error.type, e.g. "OAuthException"
	Message     string // error.message, or a snippet of a non-JSON body
	Title       string // error.error_user_title
	UserMessage string // error.error_user_msg
	// Details is error.error_data.details, or error_data itself when Meta
	// sent it as a plain string (some template-management errors do).
	Details     string
	FBTraceID   string // quote it to Meta support
	IsTransient bool   // error.is_transient: Meta's own hint that a retry may work
}

// Error renders the error like "graph: (#131026) Message undeliverable:
// details (http 400)". It never contains the access token: the client
// redacts it from everything taken from a response.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("graph: ")
	msg := e.Message
	if e.Code != 0 {
		b.WriteString("(#")
		b.WriteString(strconv.Itoa(e.Code))
		b.WriteString(") ")
		msg = strings.TrimPrefix(msg, "(#"+strconv.Itoa(e.Code)+") ")
	}
	if msg == "" {
		msg = http.StatusText(e.HTTPStatus)
	}
	if msg == "" {
		msg = "error"
	}
	b.WriteString(msg)
	if e.Details != "" && e.Details != msg {
		b.WriteString(": ")
		b.WriteString(e.Details)
	}
	if e.HTTPStatus != 0 {
		b.WriteString(" (http ")
		b.WriteString(strconv.Itoa(e.HTTPStatus))
		b.WriteString(")")
	}
	return b.String()
}

// hasCode reports whether Meta sent a structured error. Code 0 is a real
// code (AuthException), so a bare 0 only counts when the type came with it.
func (e *APIError) hasCode() bool { return e.Code != 0 || e.Type != "" }

// Class is what a sender should do with a failed call.
type Class int

const (
	// Retry: the same request may succeed later; wait RetryDelay.
	Retry Class = iota + 1
	// FixRequest: the request itself is wrong (parameters, template, media,
	// the 24-hour window); resending it unchanged will fail again.
	FixRequest
	// Stop: sending is impossible for reasons outside the request (the
	// recipient, the account, the token, policy); give up on this message
	// and surface the error.
	Stop
)

// String implements fmt.Stringer.
func (c Class) String() string {
	switch c {
	case Retry:
		return "retry"
	case FixRequest:
		return "fix_request"
	case Stop:
		return "stop"
	}
	return "Class(" + strconv.Itoa(int(c)) + ")"
}

// Graph error codes whose class does not depend on the HTTP status (docs
// §9.2, "also seen", and the generic Graph throttling codes 1, 17, 32, 613).
var codeClass = map[int]Class{
	// Temporary: throughput, pair rate, maintenance, availability, throttling.
	1: Retry, 2: Retry, 4: Retry, 17: Retry, 32: Retry, 613: Retry, 80007: Retry,
	130429: Retry, 131000: Retry, 131016: Retry, 131056: Retry, 131057: Retry,

	// The request is wrong.
	100: FixRequest, 131008: FixRequest, 131009: FixRequest, 131021: FixRequest,
	131047: FixRequest, 131053: FixRequest, 132000: FixRequest, 132001: FixRequest,
	132005: FixRequest, 132007: FixRequest, 132012: FixRequest,

	// Nothing the sender can change now: token, permissions, account,
	// recipient, policy. 131049 is retryable after 24 h at the earliest,
	// far beyond any send queue's patience, so it stops too.
	0: Stop, 3: Stop, 10: Stop, 190: Stop, 200: Stop, 368: Stop,
	130472: Stop, 130497: Stop, 131005: Stop, 131026: Stop, 131030: Stop,
	131031: Stop, 131037: Stop, 131042: Stop, 131045: Stop, 131048: Stop,
	131049: Stop, 131050: Stop, 132015: Stop, 132016: Stop, 133010: Stop,
}

// Classify tells a sender what to do with err (docs §9.2):
//
//   - *APIError: by its code when Meta sent one; else Retry if Meta says
//     is_transient or the status is 5xx, 429 or 408; Stop on 401/403;
//     FixRequest on any other 4xx.
//   - *ValidationError: FixRequest.
//   - network errors, timeouts, a connection cut mid-response
//     (io.ErrUnexpectedEOF): Retry.
//   - context.Canceled and context.DeadlineExceeded: Retry, so that work cut
//     short by a shutdown is redone after the restart. Callers that must
//     tell a shutdown from a failure check their own ctx.Err() first.
//   - ErrTooLarge, ErrBadResponse (2xx that cannot be read: the message may
//     have been accepted, a resend could duplicate it), ErrNotConfigured and
//     TLS certificate failures: Stop.
//   - anything else: Retry; callers cap the number of attempts.
//
// Classify(nil) is Stop: there is nothing to redo.
func Classify(err error) Class {
	if err == nil {
		return Stop
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.class()
	}
	var ve *ValidationError
	if errors.As(err, &ve) {
		return FixRequest
	}
	if errors.Is(err, ErrTooLarge) || errors.Is(err, ErrBadResponse) || errors.Is(err, ErrNotConfigured) {
		return Stop
	}
	if isCertificateError(err) {
		return Stop
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || isNetworkError(err) {
		return Retry
	}
	// Unknown: assume transient rather than drop a message for good.
	return Retry
}

func (e *APIError) class() Class {
	if e.hasCode() {
		if c, ok := codeClass[e.Code]; ok {
			return c
		}
	}
	switch {
	case e.IsTransient:
		return Retry
	case e.HTTPStatus >= 500, e.HTTPStatus == http.StatusTooManyRequests, e.HTTPStatus == http.StatusRequestTimeout:
		return Retry
	case e.HTTPStatus == http.StatusUnauthorized, e.HTTPStatus == http.StatusForbidden:
		return Stop
	case e.HTTPStatus >= 400:
		return FixRequest
	}
	return Stop
}

// isCertificateError reports TLS verification failures: retrying cannot fix
// a missing CA bundle or an intercepting proxy, an operator must.
func isCertificateError(err error) bool {
	var (
		unknownAuth x509.UnknownAuthorityError
		hostname    x509.HostnameError
		invalid     x509.CertificateInvalidError
		verify      *tls.CertificateVerificationError
	)
	return errors.As(err, &verify) || errors.As(err, &unknownAuth) || errors.As(err, &hostname) || errors.As(err, &invalid)
}

// isNetworkError reports a transport failure: the request may or may not
// have reached Meta.
func isNetworkError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE)
}

// RetryDelay is how long to wait before attempt+1 of a request that failed
// with err at attempt (0 for the first failure). It is 0 when Classify(err)
// is not Retry. Otherwise, with ±10 % jitter so that queued retries do not
// fire together (a capped delay may thus reach 110 % of its cap):
//
//   - 131056 (pair rate limit): 4^attempt s, Meta's own advice, up to 15 min;
//   - 130429 (throughput): 1 s·2^attempt, up to 60 s;
//   - 131057 (throughput upgrade or maintenance): 60 s;
//   - 4, 17, 32, 613, 80007 (API call rate limits): 60 s·2^attempt, up to 30 min;
//   - 5xx, network errors, 131000 and every other retry: 2 s·2^attempt, up to 5 min.
func RetryDelay(err error, attempt int) time.Duration {
	if Classify(err) != Retry {
		return 0
	}
	if attempt < 0 {
		attempt = 0
	}
	base, factor, ceiling := 2*time.Second, 2, 5*time.Minute
	var ae *APIError
	if errors.As(err, &ae) && ae.hasCode() {
		switch ae.Code {
		case 131056:
			base, factor, ceiling = time.Second, 4, 15*time.Minute
		case 130429:
			base, factor, ceiling = time.Second, 2, time.Minute
		case 131057:
			base, factor, ceiling = time.Minute, 1, time.Minute
		case 4, 17, 32, 613, 80007:
			base, factor, ceiling = time.Minute, 2, 30*time.Minute
		}
	}
	d := base
	for i := 0; i < attempt && d < ceiling; i++ {
		d *= time.Duration(factor)
	}
	d = min(d, ceiling)
	return jitter(d)
}

// jitter spreads d uniformly over ±10 %.
func jitter(d time.Duration) time.Duration {
	return d + time.Duration((rand.Float64()*0.2-0.1)*float64(d))
}

// errorTexts explain Meta's error codes to an agent in one sentence.
var errorTexts = map[int]string{
	0:      "Meta could not authenticate the request: check the access token.",
	1:      "Meta reported an unknown API error: retrying usually works.",
	2:      "Meta's service is temporarily unavailable: the message will be retried.",
	3:      "The app lacks the capability or permission for this call.",
	4:      "Too many API calls from this app: sending is slowed down and retried.",
	10:     "Permission denied: the app is not allowed to do this for this account.",
	17:     "Too many API calls for this user: sending is slowed down and retried.",
	32:     "Too many calls for this page or account: sending is slowed down and retried.",
	100:    "Meta rejected a parameter of the request as missing, invalid or misspelled.",
	190:    "The access token has expired or is invalid: generate a new one.",
	200:    "The token's system user has no access to this WhatsApp Business Account.",
	368:    "The account is temporarily blocked for policy violations.",
	613:    "Too many API calls in a short time: sending is slowed down and retried.",
	80007:  "The WhatsApp Business Account hit its API rate limit: sending is slowed down and retried.",
	130429: "The phone number's sending throughput was exceeded: sending is slowed down and retried.",
	130472: "The customer's number is part of a Meta experiment and cannot receive this message.",
	130497: "Messages to customers in this country are restricted for this business.",
	131000: "Something went wrong at Meta: the message will be retried a few times.",
	131005: "Access denied: the token lacks permission for this phone number or account.",
	131008: "A required parameter is missing from the message.",
	131009: "A parameter of the message has an invalid value.",
	131016: "The WhatsApp service is temporarily unavailable: the message will be retried.",
	131021: "The recipient is the business number itself: a number cannot message itself.",
	131026: "Message undeliverable: the number may not be on WhatsApp, may not have accepted the terms, may use an outdated app, or is restricted.",
	131030: "The recipient is not in the test number's allowed list: add them in the App Dashboard.",
	131031: "The business account is locked (policy violation or wrong two-step PIN data).",
	131037: "The phone number's display name has not been approved yet.",
	131042: "There is a billing problem with the business account (payment method or credit line).",
	131045: "The phone number is not properly registered (registration or certificate problem).",
	131047: "More than 24 hours since the customer's last message: only a template can be sent.",
	131048: "Too many messages from this number were blocked or reported as spam: sending is limited for now.",
	131049: "Meta chose not to deliver this marketing message to keep engagement healthy: sendbox holds marketing to this customer for 24 hours.",
	131050: "The customer has stopped marketing messages from this business.",
	131051: "The customer sent a message type the API does not support.",
	131052: "The customer's media could not be downloaded (for example over 100 MB): ask them to send it again.",
	131053: "The media could not be used: the link is unreachable, the MIME type is wrong or unsupported, or the file is too large.",
	131056: "Too many messages to this customer in a short time: the next one waits a little.",
	131057: "The business account is in maintenance (for example a throughput upgrade): retry in about a minute.",
	131064: "A messaging limit was imposed on this number, e.g. for misclassified templates.",
	132000: "The number of template parameters does not match the template.",
	132001: "The template does not exist in this language or is not approved yet.",
	132005: "The template text with its parameters filled in is too long.",
	132007: "The template's content breaks WhatsApp's format or character rules.",
	132012: "A template parameter has the wrong format for the template.",
	132015: "The template is paused because of low quality.",
	132016: "The template was disabled after being paused too many times.",
	133010: "The phone number is not registered on the WhatsApp Business Platform.",
	135000: "Meta rejected the request with a generic user error: check its parameters.",
}

// ErrorText explains a Graph or webhook error code in one plain-English
// sentence fit to show an agent (e.g. 131047 → "More than 24 hours since the
// customer's last message: only a template can be sent."). It covers the
// codes of docs §9.2 and the ones seen in the wild; it returns "" for any
// other code, so callers can fall back to Meta's own title.
func ErrorText(code int) string {
	return errorTexts[code]
}

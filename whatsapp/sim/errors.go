package sim

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
)

// Meta error codes the simulator produces (shared docs §9.2).
const (
	CodeInvalidParameter  = 100
	CodeAccessToken       = 190
	CodeThroughput        = 130429
	CodeGeneric           = 131000
	CodeMissingParameter  = 131008
	CodeInvalidValue      = 131009
	CodeUndeliverable     = 131026
	CodeReEngagement      = 131047
	CodeMediaUpload       = 131053
	CodePairRate          = 131056
	CodeTemplateParams    = 132000
	CodeTemplateMissing   = 132001
	subcodeObjectNotFound = 33
	errorCodesHref        = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"
	graphDocsSentence     = "Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api"
	reEngagementDetails   = "Message failed to send because more than 24 hours have passed since the customer last replied to this number."
	throughputDetails     = "Message failed to send because there were too many messages sent from this phone number in a short period of time"
	pairRateDetails       = "Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time."
	undeliverableDetails  = "Message failed to send because the recipient is not a WhatsApp user, has not accepted the latest Terms of Service, uses an outdated client, or cannot receive messages from businesses."
	genericDetails        = "Something went wrong. Please try again later."
)

// codeTitles are the titles Meta puts in "(#code) Title" messages and in
// webhook errors[].title.
var codeTitles = map[int]string{
	1:                    "API Unknown",
	2:                    "API Service",
	4:                    "API Too Many Calls",
	CodeInvalidParameter: "Invalid parameter",
	CodeAccessToken:      "Invalid OAuth access token",
	368:                  "Temporarily blocked for policies violations",
	80007:                "Rate limit issues",
	CodeThroughput:       "Rate limit hit",
	131005:               "Access denied",
	CodeGeneric:          "Something went wrong",
	CodeMissingParameter: "Required parameter is missing",
	CodeInvalidValue:     "Parameter value is not valid",
	131016:               "Service unavailable",
	131021:               "Recipient cannot be sender",
	CodeUndeliverable:    "Message Undeliverable",
	131031:               "Business Account locked",
	131042:               "Business eligibility payment issue",
	CodeReEngagement:     "Re-engagement message",
	131048:               "Spam rate limit hit",
	131049:               "This message was not delivered to maintain healthy ecosystem engagement.",
	131050:               "User stopped marketing messages",
	131051:               "Unsupported message type",
	131052:               "Media download error",
	CodeMediaUpload:      "Media upload error",
	CodePairRate:         "(Business Account, Consumer Account) pair rate limit hit",
	131057:               "Account in maintenance mode",
	CodeTemplateParams:   "Number of parameters does not match the expected number of params",
	CodeTemplateMissing:  "Template name does not exist in the translation",
	132005:               "Translated text too long",
	132007:               "Template Format Character Policy Violated",
	132012:               "Parameter format does not match format in the created template",
	132015:               "Template is Paused",
	132016:               "Template is Disabled",
	133010:               "Phone number Not Registered",
}

// title returns Meta's title for code, or a neutral one for codes the table
// does not know (injected faults may use any code).
func title(code int) string {
	if t, ok := codeTitles[code]; ok {
		return t
	}
	return "Error"
}

// httpStatusFor is the HTTP status the simulator answers a code with. Graph
// answers nearly every messaging error with 400 and internal failures with
// 5xx. Meta's own pages read for the shared docs give no status for 130429
// (only a third-party copy of the table says 429), so the simulator uses 400
// for it like the other messaging limits; clients must branch on error.code.
func httpStatusFor(code int) int {
	switch code {
	case CodeAccessToken, 0:
		return http.StatusUnauthorized
	case 4, 80007:
		return http.StatusTooManyRequests
	case 2, 131016:
		return http.StatusServiceUnavailable
	case 1, 3, CodeGeneric:
		return http.StatusInternalServerError
	case 10, 200:
		return http.StatusForbidden
	}
	return http.StatusBadRequest
}

// graphError is Graph's synchronous error body: {"error": {...}}.
type graphError struct {
	Message      string     `json:"message"`
	Type         string     `json:"type"`
	Code         int        `json:"code"`
	ErrorSubcode int        `json:"error_subcode,omitempty"`
	ErrorData    *errorData `json:"error_data,omitempty"`
	IsTransient  *bool      `json:"is_transient,omitempty"`
	// ErrorUserTitle and ErrorUserMsg are what Meta writes for a person,
	// as in its refusals of a template.
	ErrorUserTitle string `json:"error_user_title,omitempty"`
	ErrorUserMsg   string `json:"error_user_msg,omitempty"`
	FBTraceID      string `json:"fbtrace_id"`
}

// errorData is error_data of a messaging error.
type errorData struct {
	MessagingProduct string `json:"messaging_product,omitempty"`
	Details          string `json:"details"`
}

// messagingError is a WhatsApp messaging error as Graph returns it: the
// message is "(#code) Title" and error_data carries the details.
func messagingError(code int, details string) *graphError {
	return &graphError{
		Message:   fmt.Sprintf("(#%d) %s", code, title(code)),
		Type:      "OAuthException",
		Code:      code,
		ErrorData: &errorData{MessagingProduct: "whatsapp", Details: details},
		FBTraceID: fbtraceID(),
	}
}

// objectNotFound is Graph's answer for an id that does not exist (or that the
// token may not see), for any method.
func objectNotFound(method, id string) *graphError {
	verb := "get"
	switch method {
	case http.MethodPost:
		verb = "post"
	case http.MethodDelete:
		verb = "delete"
	}
	return &graphError{
		Message: fmt.Sprintf("Unsupported %s request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation. %s",
			verb, id, graphDocsSentence),
		Type:         "GraphMethodException",
		Code:         CodeInvalidParameter,
		ErrorSubcode: subcodeObjectNotFound,
		FBTraceID:    fbtraceID(),
	}
}

// unsupportedRequest is Graph's answer for a path it has no operation for.
func unsupportedRequest(method string) *graphError {
	verb := "get"
	switch method {
	case http.MethodPost:
		verb = "post"
	case http.MethodDelete:
		verb = "delete"
	}
	return &graphError{
		Message:   fmt.Sprintf("Unsupported %s request. %s", verb, graphDocsSentence),
		Type:      "GraphMethodException",
		Code:      CodeInvalidParameter,
		FBTraceID: fbtraceID(),
	}
}

// invalidToken is the 401 body Graph sends for a missing or wrong token.
func invalidToken(missing bool) *graphError {
	msg := "Invalid OAuth access token - Cannot parse access token"
	if missing {
		msg = "An active access token must be used to query information about the current user."
	}
	return &graphError{Message: msg, Type: "OAuthException", Code: CodeAccessToken, FBTraceID: fbtraceID()}
}

// fbtraceID imitates Graph's opaque 23-character trace ids.
func fbtraceID() string {
	var b [17]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])[:23]
}

// writeJSON writes v with Graph's content type.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":{"message":"(#1) An unknown error occurred","type":"OAuthException","code":1}}`)
	}
	writeRaw(w, status, b)
}

// writeRaw writes an already encoded JSON body.
func writeRaw(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h["Content-Type"] = []string{"application/json; charset=UTF-8"}
	w.WriteHeader(status)
	w.Write(b)
}

// writeError writes e as {"error": e} with the HTTP status its code maps to.
func writeError(w http.ResponseWriter, e *graphError) {
	writeErrorStatus(w, httpStatusFor(e.Code), e)
}

// writeErrorStatus writes e with an explicit HTTP status (injected faults).
func writeErrorStatus(w http.ResponseWriter, status int, e *graphError) {
	if e.Code == CodeAccessToken {
		w.Header().Set("WWW-Authenticate", `OAuth "Facebook Platform" "invalid_token" "`+e.Message+`"`)
	}
	writeJSON(w, status, struct {
		Error *graphError `json:"error"`
	}{e})
}

package whatsapp

import (
	"strings"
	"unicode/utf8"
)

// MaxBizOpaque is the most characters Meta takes in biz_opaque_callback_data.
const MaxBizOpaque = 512

// sendbox carries its own send id in biz_opaque_callback_data, which Meta
// echoes in every status webhook of the message: a sender that stopped
// between Meta's answer and recording the wamid can still tell from the
// echo that Meta has the message, and must not send it again. An API
// caller may set the field too; their value follows the tag unchanged, and
// sendbox strips the tag before showing anything back.
const (
	opaqueTag = "sbx:"
	opaqueEnd = ";"
	// SendIDLen is the length of the send ids sendbox puts in the tag.
	SendIDLen = 16
	// MaxCallerOpaque is what is left of MaxBizOpaque for an API caller's
	// own value once sendbox's tag is in.
	MaxCallerOpaque = MaxBizOpaque - len(opaqueTag) - SendIDLen - len(opaqueEnd)
)

// TagOpaque returns the biz_opaque_callback_data that carries sendbox's
// sendID in front of the caller's own value.
func TagOpaque(sendID, caller string) string {
	return opaqueTag + sendID + opaqueEnd + caller
}

// SplitOpaque undoes TagOpaque: the send id, and the caller's value as they
// set it. A value without sendbox's tag is all the caller's.
func SplitOpaque(v string) (sendID, caller string) {
	rest, ok := strings.CutPrefix(v, opaqueTag)
	if !ok {
		return "", v
	}
	id, caller, ok := strings.Cut(rest, opaqueEnd)
	if !ok || id == "" {
		return "", v
	}
	return id, caller
}

// validateOpaque checks the length Meta allows.
func validateOpaque(v string) error {
	if n := utf8.RuneCountInString(v); n > MaxBizOpaque {
		return invalid("biz_opaque_callback_data", "biz_opaque_too_long", "is %d characters; the limit is %d", n, MaxBizOpaque)
	}
	return nil
}

package flows

import (
	"context"
	"log/slog"
	"time"

	"sendbox/business"
)

// Values of time.open.
const (
	OpenYes = "yes"
	OpenNo  = "no"
)

// open is time.open: "yes" while the business is open by its profile's
// opening hours (the week, its closures and special days, in its zone),
// "no" otherwise; unset when the engine gives no hours.
func (e *Env) open() (string, bool) {
	if e.OpenAt == nil {
		return "", false
	}
	if e.OpenAt(e.Now) {
		return OpenYes, true
	}
	return OpenNo, true
}

// openAt reports whether the business is open at t, from the profile as
// stored now (read only when a condition asks: one settings row).
func (e *Engine) openAt(t time.Time) bool {
	p, err := business.Load(context.Background(), e.Store)
	if err != nil {
		e.log().Error("read the business hours for time.open", slog.Any("err", err))
		return false
	}
	return p.OpenAt(t)
}

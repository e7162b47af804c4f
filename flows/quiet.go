package flows

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"sendbox/outbound"
	"sendbox/store"
)

// holdForQuietHours keeps a send step's marketing template from going out
// during the customer's quiet hours (outbound.QuietHours, the business's
// setting): the run waits at the step on a timer, with a new token, until
// they end; FireTimer then enters the step again, which sends it (or holds
// it again if the rule changed meanwhile). It reports whether it held.
// Utility and authentication templates, and texts, are never held; a
// template sendbox cannot look up is left to send, which says why.
func (e *Engine) holdForQuietHours(ctx context.Context, x *store.RunTx, r *store.FlowRun, env *Env, s *Step) (bool, error) {
	if s.Type != StepSend || s.Template == nil {
		return false, nil
	}
	// The template's category first: the store keeps templates in memory,
	// and most of a flow's templates are utility ones, never held.
	if marketing, err := e.Outbound.IsMarketing(ctx, s.Template.Name, s.Template.Language); err != nil || !marketing {
		return false, nil
	}
	loc := time.UTC
	if e.Location != nil {
		loc = e.Location()
	}
	q, err := outbound.LoadQuietHours(ctx, e.Store, loc)
	if err != nil || !q.On {
		return false, err
	}
	at, now := q.NextAllowed(x.Now(), env.waID())
	if now {
		return false, nil
	}
	e.log().Info("a marketing template waits for the end of the customer's quiet hours", slog.Int64("run", r.ID),
		slog.String("step", s.ID), slog.Time("until", at))
	r.Waiting = store.WaitTimer
	r.Token++
	return true, x.WaitUntil(at)
}

// waID is the customer's number, digits only; "" for a customer known by
// username (whose zone is then the business's).
func (e *Env) waID() string {
	n, _ := strings.CutPrefix(e.Phone, "+")
	if n == e.Phone {
		return ""
	}
	return n
}

// onCustomerClock is env with Now on the customer's clock: their zone
// from their number, the business's when it does not tell.
func (e *Env) onCustomerClock() *Env {
	c := *e
	c.Now = e.Now.In(outbound.CustomerZone(e.waID(), e.Now.Location()))
	return &c
}

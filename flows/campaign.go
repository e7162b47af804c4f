package flows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"sendbox/store"
)

// StartFor starts the published version of flow id for a contact, as a
// campaign does for each of its recipients: ref keys the start (the same
// ref starts nothing twice), data is what the run reads as {{event.*}},
// and also runs in the start's transaction (the campaign records its
// recipient's state there). It reports whether the
// run started; a contact already in the flow, or through a once-only flow,
// gets store.ErrRunActive or store.ErrRunOnce.
func (e *Engine) StartFor(ctx context.Context, id, contactID int64, ref string, data map[string]string, also func(x *store.RunTx) error) (bool, error) {
	f, err := e.Store.FlowByID(ctx, id)
	if err != nil {
		return false, err
	}
	if f.Version == 0 || len(f.Definition) == 0 {
		return false, &InvalidError{Code: "not_published", Message: fmt.Sprintf("the flow %q has never been published", f.Name)}
	}
	var d Definition
	if err := json.Unmarshal(f.Definition, &d); err != nil {
		return false, fmt.Errorf("flow %d: %w", id, err)
	}
	if len(d.Steps) == 0 {
		return false, &InvalidError{Code: "no_steps", Message: "the flow has no steps"}
	}
	c := &compiled{flow: *f, def: d}
	started := false
	_, _, err = e.start(ctx, c, contactID, 0, ref, data, func(x *store.RunTx) error {
		started = true
		return also(x)
	})
	if errors.Is(err, store.ErrRunActive) || errors.Is(err, store.ErrRunOnce) {
		return false, err
	}
	return started && err == nil, err
}

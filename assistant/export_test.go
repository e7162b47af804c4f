package assistant

import (
	"context"

	"sendbox/policy"
)

// ActAs does with a stored customer message what the assistant does once
// the policy has decided res about it, as screening does; nothing if the
// message was handled already. Tests of decisions the default rules do not
// make yet (a re-subscription) use it.
func (a *Assistant) ActAs(ctx context.Context, msgID int64, res policy.Result) error {
	m, conv, err := a.pending(ctx, msgID)
	if m == nil || err != nil {
		return err
	}
	return a.act(ctx, conv, m, res)
}

package inbox

import (
	"context"

	"sendbox/store"
)

// WakeSnooze is the scheduler's handler of store.TimerSnoozeWake: it
// reopens the conversation the timer belongs to if it is still snoozed
// until the timer's time. A conversation reopened, resolved, answered by
// the customer or snoozed again meanwhile leaves the timer obsolete.
func WakeSnooze(_ context.Context, tx *store.TimerTx, tm *store.Timer) (bool, error) {
	return tx.WakeSnoozed(tm.Owner, tm.Token)
}

// Package guard keeps a panic in one piece of background work from ending
// the whole process. A panic in a goroutine that nobody recovers kills
// sendbox with everything in flight, and a bug that a full disk or a strange
// webhook brings out would then kill it again at every start. Each worker
// runs its units of work (a batch, a job, a pass of a loop) through Do, and
// handles a panic as it handles any failure of that work: a broker message
// is delivered again later, a loop goes round again.
package guard

import (
	"fmt"
	"log/slog"
	"runtime/debug"
)

// Do runs fn and turns a panic in it into an error, logged with its stack
// as a failure of the work named what.
func Do(log *slog.Logger, what string, fn func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: recovered from a panic: %v", what, r)
			if log != nil {
				log.Error("recovered from a panic; the work will be retried", slog.String("work", what),
					slog.String("panic", fmt.Sprint(r)), slog.String("stack", string(debug.Stack())))
			}
		}
	}()
	fn()
	return nil
}

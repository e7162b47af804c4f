package accounts

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"
)

// ErrBusy is returned by Login when every password-hashing slot is taken
// and the queue for them is full: the person should try again in a moment.
var ErrBusy = errors.New("many people are signing in at this moment: try again in a second")

// hashGate bounds the argon2id runs at once. Each holds 19 MiB and a core
// for about 50 ms: more at once than cores only queues them in the
// scheduler while their memory adds up (100 sign-ins at once took RSS
// from 49 to 1,784 MiB). One slot per core, at most four, bounds that to
// 76 MiB of hashing at once, and a sign-in still takes ~50 ms.
var hashGate = struct {
	slots   chan struct{}
	waiting atomic.Int64
}{slots: make(chan struct{}, min(max(runtime.NumCPU(), 1), 4))}

// A sign-in waits at most loginPatience for a slot, and at most
// loginQueue sign-ins per slot wait: beyond that they are answered "try
// again" at once rather than held, each with its request, without bound.
const (
	loginPatience = 2 * time.Second
	loginQueue    = 4
)

// HashSlots is how many password hashes may run at once.
func HashSlots() int { return cap(hashGate.slots) }

// enterHash takes a hashing slot. With patience 0 it waits as long as ctx
// allows (for the checks only a signed-in user or a link holder reaches);
// otherwise it waits at most patience, in a bounded queue, or returns ErrBusy.
func enterHash(ctx context.Context, patience time.Duration) error {
	select {
	case hashGate.slots <- struct{}{}:
		return nil
	default:
	}
	var timeout <-chan time.Time
	if patience > 0 {
		if hashGate.waiting.Add(1) > int64(loginQueue*cap(hashGate.slots)) {
			hashGate.waiting.Add(-1)
			return ErrBusy
		}
		defer hashGate.waiting.Add(-1)
		t := time.NewTimer(patience)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case hashGate.slots <- struct{}{}:
		return nil
	case <-timeout:
		return ErrBusy
	case <-ctx.Done():
		return ctx.Err()
	}
}

// leaveHash frees the slot and has the garbage collected. Each hash leaves
// 19 MiB of garbage, and sendbox lets the heap grow to four times the live
// data before collecting (GOGC=300): 100 sign-ins at once left 136 MiB more
// resident, and 57-93 MiB with a collection after each hash. One runs in
// the background at a time, so no sign-in waits for it.
func leaveHash() {
	<-hashGate.slots
	if collecting.CompareAndSwap(false, true) {
		go func() {
			defer collecting.Store(false)
			runtime.GC()
		}()
	}
}

var collecting atomic.Bool

// hashes counts the argon2id runs of this process: how many ran, how many
// run now, and the most that ever ran at once.
var hashes struct {
	total, running, peak atomic.Int64
}

// HashStats reports the argon2id runs since the process started, how many
// run now, and the most that ran at once.
func HashStats() (total, running, peak int64) {
	return hashes.total.Load(), hashes.running.Load(), hashes.peak.Load()
}

// idKey is argon2.IDKey, counted; call it holding a slot.
func idKey(pw, salt []byte, t, mem uint32, p uint8, keyLen uint32) []byte {
	hashes.total.Add(1)
	n := hashes.running.Add(1)
	defer hashes.running.Add(-1)
	for {
		peak := hashes.peak.Load()
		if n <= peak || hashes.peak.CompareAndSwap(peak, n) {
			break
		}
	}
	return argon2.IDKey(pw, salt, t, mem, p, keyLen)
}

package app

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
)

// autoFloor bounds the default free-space floor: the smaller of this and
// autoFloorShare of the volume, so a small volume is not held at 200 MB.
const (
	autoFloor      = 200 << 20
	autoFloorShare = 100 // 1 %
)

// reserveShare is the part of the floor kept for the broker's own files.
const reserveShare = 4 // a quarter

// diskWatch keeps the free space of the data folder's volume at hand. Under
// the floor, webhooks are answered 503 so that Meta delivers them again
// later, rather than accepted into a broker and a database that cannot
// write them, and media downloads wait (one video may take what is left):
// the space left is for the work already accepted, stored, indexed and
// answered, and for the replies agents still send. Under a quarter of the
// floor (something else goes on filling the disk) the outbox relay waits
// too, and events, jobs and sends wait in SQLite: the broker loses nothing
// it acknowledged when the disk is full (it writes a single-replica stream
// in place and answers an error), but a write it fails leaves the stream
// refusing every write until it is reloaded (see embed.Broker.Heal). The
// reading is refreshed every second by a goroutine of its own, so the
// webhook path only loads an atomic.
type diskWatch struct {
	dir   string
	floor int64 // configured; 0: autoFloor or autoFloorShare of the volume
	log   *slog.Logger

	low            atomic.Bool // under the floor
	critical       atomic.Bool // under the broker's reserve, a quarter of the floor
	free, effFloor atomic.Int64
	unreadable     atomic.Bool // the last reading failed, and that was logged
}

func newDiskWatch(dir string, floor int64, log *slog.Logger) *diskWatch {
	d := &diskWatch{dir: dir, floor: floor, log: log}
	d.check()
	return d
}

// check reads the volume once and logs a crossing of the floor.
func (d *diskWatch) check() {
	free, total, err := volumeSpace(d.dir)
	if err != nil {
		d.low.Store(false)
		d.critical.Store(false)
		if !d.unreadable.Swap(true) {
			d.log.Warn("cannot read the free disk space; webhooks are accepted without a floor", slog.Any("err", err))
		}
		return
	}
	d.unreadable.Store(false)
	floor := d.floor
	if floor <= 0 {
		floor = min(autoFloor, total/autoFloorShare)
	}
	d.free.Store(free)
	d.effFloor.Store(floor)
	low := free < floor
	critical := free < floor/reserveShare
	if was := d.critical.Swap(critical); was != critical {
		if critical {
			d.log.Error("the disk is almost full: events, jobs and sends wait in the outbox until space is freed",
				slog.String("free", megabytes(free)))
		} else {
			d.log.Warn("events, jobs and sends are relayed again", slog.String("free", megabytes(free)))
		}
	}
	if was := d.low.Swap(low); was != low {
		if low {
			d.log.Error("the data folder's disk is nearly full: webhooks are refused with 503 until space is freed, and Meta retries them",
				slog.String("free", megabytes(free)), slog.String("floor", megabytes(floor)), slog.String("folder", d.dir))
		} else {
			d.log.Warn("disk space is back above the floor: webhooks are accepted again",
				slog.String("free", megabytes(free)), slog.String("floor", megabytes(floor)))
		}
	}
}

// run refreshes the reading every second until ctx ends, and calls each
// of after with the result.
func (d *diskWatch) run(ctx context.Context, after ...func(low bool)) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		d.check()
		for _, f := range after {
			f(d.low.Load())
		}
	}
}

// Low reports whether the free space is under the floor, and the figures.
func (d *diskWatch) Low() (low bool, free, floor int64) {
	return d.low.Load(), d.free.Load(), d.effFloor.Load()
}

// reason says, for a person, why webhooks are refused.
func (d *diskWatch) reason() string {
	_, free, floor := d.Low()
	return fmt.Sprintf("the data folder's disk has %s free, under the floor of %s (SENDBOX_DISK_FLOOR): webhooks are refused until space is freed",
		megabytes(free), megabytes(floor))
}

// megabytes shows a byte count the way df -h does, near enough.
func megabytes(n int64) string {
	if n >= 10<<30 {
		return fmt.Sprintf("%d GB", n>>30)
	}
	if n >= 1<<30 {
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	}
	return fmt.Sprintf("%d MB", n>>20)
}

package flows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"sendbox/embed"
	"sendbox/events"
	"sendbox/guard"
	"sendbox/store"
)

// runJob is the job a step whose work is slow (an http call, an ai
// answer) queues in the run's transaction: the run, the token it waits
// with, its step, and for the ai step the question.
type runJob struct {
	RunID    int64  `json:"run_id"`
	Token    int64  `json:"token"`
	Step     string `json:"step"`
	Question string `json:"question,omitempty"`
}

// queueJob makes the run wait (store.WaitJob, a new token) for a job on
// subject, queued with the run's transaction; kind names it in its
// de-duplication id.
func (e *Engine) queueJob(x *store.RunTx, r *store.FlowRun, subject, kind string, j runJob) error {
	r.Waiting = store.WaitJob
	r.Token++
	j.RunID, j.Token = r.ID, r.Token
	b, _ := json.Marshal(j)
	return x.Job(subject, fmt.Sprintf("flow.%s.%d.%d", kind, r.ID, r.Token), b)
}

// jobWorker is a kind of run job and how it is consumed.
type jobWorker struct {
	durable, subject, what string
	ackWait                time.Duration
	workers                int
	run                    func(context.Context, runJob) error
}

// startJobs consumes w's jobs, w.workers at once, until ctx ends: a job
// whose run returns an error is delivered again 5 s later; one that does
// not read is dropped.
func (e *Engine) startJobs(ctx context.Context, br *embed.Broker, w jobWorker) error {
	c, err := br.Consumer(ctx, events.StreamJobs, jetstream.ConsumerConfig{
		Durable: w.durable, AckPolicy: jetstream.AckExplicitPolicy, AckWait: w.ackWait,
		MaxAckPending: w.workers, MaxDeliver: -1, FilterSubject: w.subject,
	})
	if err != nil {
		return err
	}
	sem := make(chan struct{}, w.workers)
	cc, err := c.Consume(func(m jetstream.Msg) {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			if err := guard.Do(e.log(), w.what, func() { e.handleJob(ctx, m, w) }); err != nil {
				m.NakWithDelay(5 * time.Second)
			}
		}()
	}, jetstream.PullMaxMessages(w.workers), jetstream.PullExpiry(embed.PullExpiry))
	if err != nil {
		return err
	}
	go func() {
		<-ctx.Done()
		cc.Stop()
	}()
	return nil
}

func (e *Engine) handleJob(ctx context.Context, m jetstream.Msg, w jobWorker) {
	var j runJob
	if err := json.Unmarshal(m.Data(), &j); err != nil {
		m.Term()
		return
	}
	if err := w.run(ctx, j); err != nil {
		e.log().Error(w.what+"; will retry", slog.Int64("run", j.RunID), slog.Any("err", err))
		m.NakWithDelay(5 * time.Second)
		return
	}
	m.Ack()
}

// jobRun is the run a job is for, or nil when it has moved on since the
// job was queued (stopped, restarted, answered): the job then does nothing.
func (e *Engine) jobRun(ctx context.Context, j runJob) (*store.FlowRun, error) {
	r, err := e.Store.RunByID(ctx, j.RunID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !j.current(r) {
		return nil, nil
	}
	return r, nil
}

// current reports whether r still waits for this job.
func (j runJob) current(r *store.FlowRun) bool {
	return r.State == store.RunActive && r.Token == j.Token && r.Step == j.Step && r.Waiting == store.WaitJob
}

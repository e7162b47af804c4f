package embed

import (
	"context"
	"fmt"
)

// ResetConsumer makes a durable consumer deliver again, at once, every
// message not acknowledged yet, including those a stopped process held:
// otherwise they wait out the consumer's ack wait. It needs NATS 2.12 or
// newer (the embedded server is).
func (b *Broker) ResetConsumer(ctx context.Context, stream, consumer string) error {
	if _, err := b.JS.ResetConsumer(ctx, stream, consumer); err != nil {
		return fmt.Errorf("reset consumer %s on %s: %w", consumer, stream, err)
	}
	return nil
}

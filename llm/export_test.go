package llm

import "time"

// SetPullKeep changes how long c lists finished pulls.
func SetPullKeep(c *Client, d time.Duration) {
	c.mu.Lock()
	c.keep = d
	c.mu.Unlock()
}

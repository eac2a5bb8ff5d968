package topology

import (
	"context"
	"fmt"
	"time"
)

// WaitFor polls cond every 20 ms until it holds and returns how long that
// took. It fails when timeout passes first, with an error naming what, or
// when ctx ends.
func WaitFor(ctx context.Context, what string, timeout time.Duration, cond func() bool) (time.Duration, error) {
	start := time.Now()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Since(start) > timeout {
			return 0, fmt.Errorf("%s: not within %v", what, timeout)
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("%s: %w", what, ctx.Err())
		case <-tick.C:
		}
	}
	return time.Since(start), nil
}

package netnstest

import (
	"context"
	"testing"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/topology"
)

// WaitFor polls cond until it holds and returns how long that took, failing
// t when timeout passes first; see [topology.WaitFor]. It may be called
// from a cleanup.
func WaitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) time.Duration {
	t.Helper()
	took, err := topology.WaitFor(context.Background(), what, timeout, cond)
	if err != nil {
		t.Fatal(err)
	}
	return took
}

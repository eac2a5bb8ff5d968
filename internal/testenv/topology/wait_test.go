package topology

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestWaitForReturnsOnceCondHolds(t *testing.T) {
	calls := 0
	took, err := WaitFor(context.Background(), "three calls", 10*time.Second, func() bool {
		calls++
		return calls == 3
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 3 {
		t.Errorf("cond called %d times, want 3", calls)
	}
	if took <= 0 {
		t.Errorf("took %v after two polls", took)
	}
}

func TestWaitForTimesOut(t *testing.T) {
	_, err := WaitFor(context.Background(), "the impossible", 50*time.Millisecond, func() bool { return false })
	if err == nil || !strings.Contains(err.Error(), "the impossible: not within 50ms") {
		t.Fatalf("err = %v, want one naming what timed out", err)
	}
}

func TestWaitForStopsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := WaitFor(ctx, "anything", time.Hour, func() bool { return false })
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "anything") {
		t.Fatalf("err = %v, want context.Canceled naming what", err)
	}
}

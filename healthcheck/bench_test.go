package healthcheck

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkMonitorAttempt measures the Monitor's own cost per attempt
// (scheduling, goroutine, context, result, rise/fall) with a checker that
// does nothing, against 1000 targets that are always due.
func BenchmarkMonitorAttempt(b *testing.B) {
	var n atomic.Int64
	ctx, cancel := context.WithCancel(b.Context())
	defer cancel()
	done := make(chan struct{})
	m, err := New(&Config{NoSpread: true, Observe: func(Observation) {
		if n.Add(1) == int64(b.N) {
			close(done)
		}
	}})
	if err != nil {
		b.Fatal(err)
	}
	up := CheckerFunc(func(context.Context) Result { return Result{Up: true} })
	for i := range 1000 {
		if err := m.Add(Target{Name: fmt.Sprint(i), Interval: time.Nanosecond, Checker: up}); err != nil {
			b.Fatal(err)
		}
	}
	go func() {
		for range m.Events() {
		}
	}()
	b.ReportAllocs()
	b.ResetTimer()
	go m.Run(ctx)
	<-done
	b.StopTimer()
}

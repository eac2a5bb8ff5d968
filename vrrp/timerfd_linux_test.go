package vrrp

import (
	"testing"
	"time"
)

func TestTimerFDFiresNotBefore(t *testing.T) {
	tm, err := newTimerFD()
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	for _, d := range []time.Duration{0, time.Millisecond, 20 * time.Millisecond} {
		start := time.Now()
		tm.Reset(d)
		select {
		case at := <-tm.C():
			if got := at.Sub(start); got < d {
				t.Errorf("Reset(%v) fired after %v, before its time", d, got)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("Reset(%v) never fired", d)
		}
	}
}

func TestTimerFDResetReplacesAndStopDisarms(t *testing.T) {
	tm, err := newTimerFD()
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	// Re-arming later replaces the earlier arming: one firing, not two.
	tm.Reset(50 * time.Millisecond)
	tm.Reset(100 * time.Millisecond)
	start := time.Now()
	select {
	case at := <-tm.C():
		if at.Sub(start) < 99*time.Millisecond {
			t.Errorf("fired %v after re-arming for 100ms: the first arming was not replaced", at.Sub(start))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("never fired")
	}
	tm.Reset(10 * time.Millisecond)
	tm.Stop()
	select {
	case <-tm.C():
		t.Error("fired after Stop")
	case <-time.After(200 * time.Millisecond):
	}
}

func TestTimerFDCloseEndsReader(t *testing.T) {
	tm, err := newTimerFD()
	if err != nil {
		t.Fatal(err)
	}
	tm.Reset(time.Hour)
	done := make(chan error, 1)
	go func() { done <- tm.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return: the reading goroutine is stuck")
	}
}

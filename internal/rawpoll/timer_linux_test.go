package rawpoll

import (
	"fmt"
	"os"
	"testing"
	"time"
)

const hasKernelTimer = true

// A Timer on Linux is a timerfd, and Close releases it.
func TestTimerIsATimerfdAndCloseReleasesIt(t *testing.T) {
	// The runtime's poller opens its own descriptors on first use.
	if err := NewTimer().Close(); err != nil {
		t.Fatal(err)
	}
	before := openFDs(t)
	var timers []*Timer
	for range 20 {
		tm := NewTimer()
		if tm.k == nil {
			t.Fatal("NewTimer fell back to a runtime timer")
		}
		link, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", tm.k.fd))
		if err != nil || link != "anon_inode:[timerfd]" {
			t.Fatalf("descriptor %d is %q (%v), not a timerfd", tm.k.fd, link, err)
		}
		tm.Reset(time.Hour)
		timers = append(timers, tm)
	}
	if n := openFDs(t); n != before+20 {
		t.Fatalf("%d descriptors open with 20 timers, %d before", n, before)
	}
	for _, tm := range timers {
		if err := tm.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if n := openFDs(t); n != before {
		t.Fatalf("%d descriptors open after closing the timers, %d before", n, before)
	}
}

func openFDs(t *testing.T) int {
	t.Helper()
	des, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(des)
}

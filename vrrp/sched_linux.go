package vrrp

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// SetRealtimePriority puts every thread of the calling process under the
// SCHED_RR real-time policy at prio (1-99), as keepalived's
// vrrp_rt_priority does for its VRRP process, so that adverts go out and
// timers fire on time on a busy host: with 10 ms adverts a BACKUP takes
// over after 36 ms of silence, less than a time slice of a loaded CPU.
// Threads the Go runtime starts later inherit the policy, and so do the
// programs the process runs (notify programs): unlike keepalived, which
// sets SCHED_RESET_ON_FORK, because that flag would also hand the runtime's
// new threads back to the normal policy. prio 0 returns the threads to
// the normal policy (SCHED_OTHER). The kernel's real-time throttling
// (kernel.sched_rt_runtime_us) still leaves other tasks CPU time.
//
// It needs CAP_SYS_NICE. It returns a *FieldError for prio outside
// 0-99, or the first error of sched_setattr(2).
func SetRealtimePriority(prio int) error {
	if prio < 0 || prio > 99 {
		return &FieldError{Field: "realtime priority", Value: strconv.Itoa(prio), Msg: "must be 0-99"}
	}
	attr := unix.SchedAttr{Policy: unix.SCHED_RR, Priority: uint32(prio)}
	if prio == 0 {
		attr = unix.SchedAttr{Policy: unix.SCHED_NORMAL}
	}
	// Threads can start while the list is walked: walk it until a pass
	// finds none new.
	done := map[int]bool{}
	for {
		ents, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return fmt.Errorf("vrrp: listing threads: %w", err)
		}
		fresh := 0
		for _, e := range ents {
			tid, err := strconv.Atoi(e.Name())
			if err != nil || done[tid] {
				continue
			}
			a := attr
			if err := unix.SchedSetAttr(tid, &a, 0); err != nil && err != unix.ESRCH {
				return fmt.Errorf("vrrp: real-time priority %d for thread %d: %w", prio, tid, err)
			}
			done[tid] = true
			fresh++
		}
		if fresh == 0 {
			return nil
		}
	}
}

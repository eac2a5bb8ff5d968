// Command stallprobe measures how long the host keeps a sleeping task from
// running: it sleeps 1 ms at a time for -for and reports each wake-up later
// than -over, and the longest. Tests run it under a real-time policy
// (chrt -r) beside a real-time program they time, to tell a stall of the
// whole host (a virtual machine's CPU taken away by its hypervisor, for
// one) from a delay of the program itself.
//
// Its last line is "longest WAKE stalls N"; each stall before it is
// "stall AT WAKE" with AT in RFC 3339 form with nanoseconds.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"
)

func main() {
	d := flag.Duration("for", 8*time.Second, "how long to measure")
	over := flag.Duration("over", 20*time.Millisecond, "report each wake-up later than this")
	flag.Parse()
	if *d <= 0 || *d > time.Hour || *over <= 0 {
		fmt.Fprintf(os.Stderr, "stallprobe: -for must be in (0, 1h] and -over positive, not %v and %v\n", *d, *over)
		os.Exit(2)
	}
	const tick = time.Millisecond
	var longest time.Duration
	stalls := 0
	end := time.Now().Add(*d)
	for prev := time.Now(); prev.Before(end); {
		time.Sleep(tick)
		now := time.Now()
		late := now.Sub(prev) - tick
		if late > longest {
			longest = late
		}
		if late > *over {
			stalls++
			fmt.Printf("stall %s %v\n", now.UTC().Format(time.RFC3339Nano), late)
		}
		prev = now
	}
	fmt.Printf("longest %v stalls %d\n", longest, stalls)
}

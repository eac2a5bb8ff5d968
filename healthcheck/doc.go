// Package healthcheck checks real servers and tells when they go up or down.
//
// # Checkers
//
// A Checker runs one check and returns a Result (up or down, and why):
//
//   - TCP: the port accepts a connection (keepalived's TCP_CHECK);
//     optionally send bytes and expect a reply prefix.
//   - UDP: what `nc -zu` does: a datagram on a connected socket, and an
//     ICMP port unreachable means down; optionally a payload and an
//     expected reply. On Linux every ICMP error (host unreachable too) is
//     reported, not only port unreachable.
//   - HTTP: a GET of an http:// or https:// URL (HTTP_GET, SSL_GET):
//     accepted status codes (default 200-299), a body regexp or digest,
//     a Host header, SNI, skipping certificate verification. The timeout
//     covers the whole exchange, body included.
//   - DNS: a query over UDP (default SOA of "."), up when a well-formed
//     response with an accepted response code comes back (DNS_CHECK).
//   - Exec: a program run without a shell (MISC_CHECK): exit 0 up, other
//     codes down, or keepalived's misc_dynamic weights; its process group
//     is killed on timeout.
//
// Every checker has a timeout, honours its context and never blocks past
// either. Network checkers can bind a source address or an interface.
//
// # Monitor
//
// A Monitor schedules many targets, each with its interval (delay_loop),
// timeout, retries and delay between retries, rise and fall thresholds and
// initial state. First rounds are spread at random over the interval so
// that thousands of targets do not fire together; the attempts in flight
// are bounded (Config.Concurrency, default 2048, never more than one per
// target) and each runs in its own goroutine with its own deadline, so no
// check can block another, and an attempt whose checker ignores its
// deadline gives its slot back after a grace second. Transitions come out
// of Monitor.Events in order; Config.Observe sees every attempt (metrics).
// A watchdog reports a target none of whose attempts completed for a while
// (EventStalled), for example because its checker ignores its timeout.
// The decisions (rise/fall, retries, next due time, stalls) are pure code
// fed with results and the current time.
//
//	m, err := healthcheck.New(nil, healthcheck.Target{
//		Name:     "web1",
//		Checker:  &healthcheck.TCP{Addr: netip.MustParseAddrPort("172.16.0.1:80")},
//		Interval: 6 * time.Second,
//		Timeout:  2 * time.Second,
//	})
//	go m.Run(ctx)
//	for ev := range m.Events() {
//		log.Print(ev) // "web1 down: connect: connection refused"
//	}
//
// # Cost while idle
//
// On Linux the checks keepalived users run most, a TCP connect without
// Send or Expect and Exec, and the DNS and UDP checks, make their system
// calls raw (unix.RawSyscall) and wait in one epoll instance per process
// that the runtime's poller watches (internal/rawpoll), instead of going
// through package net and os/exec. Each call through the runtime's system-call
// path wakes the runtime's monitor thread, which then polls every 20 µs
// while the program runs; for a daemon that checks a few servers every
// few seconds that overhead was most of its CPU time. Results and their
// reasons read the same either way; other checkers use package net. A
// connect that is complete when connect returns, as it often is to a local
// or nearby server, is not waited for at all; an Exec program's pipe stays
// open in the daemon until the program is reaped, so that a program that
// exits wakes the daemon once, for its pidfd, not also for the end of its
// output. On
// linux/amd64 an Exec program is forked by a few lines of assembly that
// call clone3 with CLONE_VM|CLONE_VFORK, as syscall.ForkExec does, but
// make no call through that path; syscall.ForkExec makes three, and serves
// elsewhere and where clone3 is refused.
//
// A Monitor keeps its schedule, its attempts' deadlines and its watchdog on
// one timer, a timerfd on Linux, re-armed only when the next wake changes.
// An attempt's context has no timer of its own: the Monitor ends it at its
// deadline. A context.WithTimeout per attempt would leave a stopped runtime
// timer behind every attempt that finishes in time, and the runtime wakes
// for such a timer's old expiry anyway.
//
// # Privileges and network namespaces
//
// No check needs privileges, except binding to an interface on old kernels
// (CAP_NET_RAW). Sockets are opened in the network namespace of the thread
// that runs the check: to check from another namespace, run the program
// there (`ip netns exec`), or call Check on an OS thread locked into that
// namespace (TCP, UDP and DNS checks open their socket on the calling
// goroutine; HTTP dials from the transport's goroutines, and Exec runs the
// program in the caller's namespace).
//
// Outside Linux, everything works except binding to an interface (an
// error wrapping ErrUnsupported), reporting of ICMP errors other than port
// unreachable, and killing an exec check's whole process group.
package healthcheck

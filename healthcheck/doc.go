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
//     reported, not only port unreachable. UDPReply judges the first
//     reply as keepalived's require_reply does (data with wildcards,
//     length bounds).
//   - HTTP: a GET of an http:// or https:// URL (HTTP_GET, SSL_GET):
//     accepted status codes (default 200-299), a body regexp or digest,
//     a Host header, SNI (or none), skipping certificate verification.
//     With Protocol set, the request is the one keepalived writes for its
//     http_protocol (1.0, 1.0C, 1.1) instead of Go's HTTP client's; the
//     body regexp can be inverted, bounded by offsets and run on bytes as
//     PCRE2 runs it without utf. The timeout covers the whole exchange,
//     body included.
//   - DNS: a query over UDP (default SOA of "."), up when a well-formed
//     response with an accepted response code comes back (DNS_CHECK).
//   - Exec: a program run without a shell (MISC_CHECK): exit 0 up, other
//     codes down, or keepalived's misc_dynamic weights; its process group
//     is killed on timeout.
//   - SMTP: keepalived's SMTP_CHECK dialogue: greeting 220, "HELO name"
//     answered 250, "QUIT" answered with any line; Timeout bounds each
//     step, as keepalived's connect_timeout does.
//   - Ping: one ICMP echo request (IPv4 or IPv6, PING_CHECK), up when
//     the reply with its identifier and sequence number comes back from
//     the target within the timeout; other ICMP messages are ignored and
//     counted.
//   - File: the integer in a file (FILE_CHECK with its track_file): a
//     status that keeps the real server up with a weight added to its
//     configured one, or takes it down, read as keepalived reads it
//     (FileStatus is the pure rule).
//
// Every checker has a timeout, honours its context and never blocks past
// either. Network checkers can bind a source address, port or interface
// and mark their packets (Bind).
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
// fed with results and the current time. Monitor.Suspend stops a target's
// attempts while keeping its state and schedule (keepalived's ha_suspend).
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
// # Sockets, programs and timers
//
// Network checkers use package net: a check's socket waits in the Go
// runtime's network poller, so a slow or silent server holds a goroutine,
// not a thread. An Exec program is started with os/exec, in a process group
// of its own (on Linux), with /dev/null as standard input and one pipe for
// standard output and error, of which the first line makes the reason; it
// gets the open-files limit this process started with, not the one the Go
// runtime raised. A program that exits while children it left running hold
// that pipe open is judged by its exit status a second later; on timeout
// its whole process group is killed.
//
// A Monitor keeps its schedule, its attempts' deadlines and its watchdog
// on one time.Timer, reset only when the next wake changes; an attempt's
// context has no timer of its own, the Monitor ends it at its deadline.
// The Monitor itself waits only on timers and channels: with checkers that
// do the same, such as CheckerFunc fakes, it runs under testing/synctest on
// its fake clock.
//
// # Privileges and network namespaces
//
// No check needs privileges, except binding to an interface on old kernels
// (CAP_NET_RAW), a firewall mark (Bind.Mark: CAP_NET_ADMIN), and Ping where the process's group is outside
// net.ipv4.ping_group_range: it then falls back from a ping socket to a
// raw ICMP socket (CAP_NET_RAW). Unlike keepalived, which widens
// ping_group_range to include group 0, Ping changes no sysctl. Sockets are opened in the network namespace of the thread
// that runs the check: to check from another namespace, run the program
// there (`ip netns exec`), or call Check on an OS thread locked into that
// namespace (TCP, UDP, DNS, SMTP and Ping checks open their socket on the
// calling goroutine; HTTP dials from the transport's goroutines, and Exec runs the
// program in the caller's namespace).
//
// Outside Linux, everything works except binding to an interface and
// firewall marks (an error wrapping ErrUnsupported), reporting of ICMP errors other than port
// unreachable, and killing an exec check's whole process group.
package healthcheck

// Package rawpoll waits for file descriptors to become ready without the
// Go runtime's system-call path, for programs that are idle most of the
// time and should stay cheap while they are.
//
// Every system call made through package syscall (and so through package
// net and os/exec) enters the runtime's syscall path, which wakes the
// runtime's monitor thread from its deep sleep; the monitor then polls
// every 20 µs while the program runs, and takes the processor away from a
// call that lasts longer than that, starting a second thread. For a daemon
// whose work is a handful of short events a second, most of its CPU time is
// that overhead. Code that wants to avoid it makes its calls with
// unix.RawSyscall on non-blocking descriptors and waits for readiness here.
//
// A Poller is an epoll instance of its own, registered once in the
// runtime's network poller: descriptors are armed in it with a raw
// epoll_ctl, one notification at a time (EPOLLONESHOT), and a goroutine
// parked in the runtime's poller drains it with a raw epoll_pwait when it
// becomes readable. No thread is blocked while nothing is ready.
//
// For sockets that live long and are in the runtime's poller already (a
// net or os value's RawConn), SendMsg and RecvMsg make the raw sendmsg and
// recvmsg calls and wait in that poller instead.
//
// The Poller, SendMsg and RecvMsg are Linux only. A Timer, for deadlines
// that are re-armed often, is a timerfd waited for in the runtime's poller
// on Linux and a time.Timer elsewhere.
package rawpoll

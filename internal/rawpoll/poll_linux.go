package rawpoll

import (
	"context"
	"fmt"
	"os"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Event is one readiness notification: the descriptor and the epoll event
// bits it reported (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP, ...).
type Event struct {
	FD     int
	Events uint32
}

// Poller delivers readiness notifications for descriptors armed in it. Its
// methods are safe for concurrent use.
type Poller struct {
	ep int
	f  *os.File

	mu      sync.Mutex
	gen     uint32
	waiters map[int32]waiter
}

type waiter struct {
	gen uint32
	ch  chan<- Event
}

var shared struct {
	once sync.Once
	p    *Poller
	err  error
}

// Shared returns the process's Poller, created on first use. Like the
// runtime's own poller it lives as long as the process: one epoll
// descriptor and one parked goroutine.
func Shared() (*Poller, error) {
	shared.once.Do(func() { shared.p, shared.err = open() })
	return shared.p, shared.err
}

// open creates the epoll instance and its draining goroutine.
func open() (*Poller, error) {
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	// Non-blocking, so that os.NewFile registers it in the runtime's poller.
	if err := unix.SetNonblock(ep, true); err != nil {
		unix.Close(ep)
		return nil, os.NewSyscallError("fcntl", err)
	}
	f := os.NewFile(uintptr(ep), "rawpoll")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("rawpoll: %w", err)
	}
	p := &Poller{ep: ep, f: f, waiters: make(map[int32]waiter)}
	go p.loop(rc)
	return p, nil
}

// loop waits in the runtime's poller for the epoll descriptor to become
// readable and hands out what it holds. It runs as long as the process.
func (p *Poller) loop(rc syscall.RawConn) {
	var evs [32]unix.EpollEvent
	_ = rc.Read(func(fd uintptr) bool {
		for {
			n, _, e := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, fd, uintptr(unsafe.Pointer(&evs[0])), uintptr(len(evs)), 0, 0, 0)
			switch {
			case e == unix.EINTR:
				continue
			case e != 0:
				return true // cannot happen on a valid epoll descriptor
			}
			p.dispatch(evs[:n])
			if int(n) < len(evs) {
				return false // drained: park until it is readable again
			}
		}
	})
}

// dispatch sends each event to the channel armed for it, if that arming
// is still current: a descriptor disarmed, closed and reused meanwhile has
// a new generation, and the stale event is dropped.
func (p *Poller) dispatch(evs []unix.EpollEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, ev := range evs {
		w, ok := p.waiters[ev.Fd]
		if !ok || w.gen != uint32(ev.Pad) {
			continue
		}
		delete(p.waiters, ev.Fd)
		select {
		case w.ch <- Event{FD: int(ev.Fd), Events: ev.Events}:
		default: // Arm's contract: ch has room; a full one is the caller's bug
		}
	}
}

// Arm asks for one notification on ch when fd reports any of events
// (EPOLLERR and EPOLLHUP are always reported). ch must have room for it
// when it comes: a buffered channel that the caller drains. After the
// notification fd is disarmed; arm it again for another. A caller that
// stops waiting before the notification must Disarm fd before closing it.
func (p *Poller) Arm(fd int, events uint32, ch chan<- Event) error {
	return p.arm(fd, events|unix.EPOLLONESHOT, waiter{ch: ch})
}

func (p *Poller) arm(fd int, events uint32, w waiter) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gen++
	w.gen = p.gen
	ev := unix.EpollEvent{Events: events, Fd: int32(fd), Pad: int32(p.gen)}
	p.waiters[int32(fd)] = w
	// Most descriptors are new (a socket, a pipe, a pidfd); one armed
	// before and still open is modified instead.
	e := ctl(p.ep, unix.EPOLL_CTL_ADD, fd, &ev)
	if e == unix.EEXIST {
		e = ctl(p.ep, unix.EPOLL_CTL_MOD, fd, &ev)
	}
	if e != 0 {
		delete(p.waiters, int32(fd))
		return os.NewSyscallError("epoll_ctl", e)
	}
	return nil
}

// Disarm removes fd from the Poller; no notification for it is sent after
// Disarm returns, though one sent before may still be in the channel.
func (p *Poller) Disarm(fd int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.waiters, int32(fd))
	_ = ctl(p.ep, unix.EPOLL_CTL_DEL, fd, nil)
}

// Wait arms fd for events and waits for the notification or the end of
// ctx, whose error it then returns with fd disarmed.
func (p *Poller) Wait(ctx context.Context, fd int, events uint32) (uint32, error) {
	ch := make(chan Event, 1)
	if err := p.Arm(fd, events, ch); err != nil {
		return 0, err
	}
	select {
	case ev := <-ch:
		return ev.Events, nil
	case <-ctx.Done():
		p.Disarm(fd)
		return 0, ctx.Err()
	}
}

func ctl(ep, op, fd int, ev *unix.EpollEvent) syscall.Errno {
	_, _, e := unix.RawSyscall6(unix.SYS_EPOLL_CTL, uintptr(ep), uintptr(op), uintptr(fd), uintptr(unsafe.Pointer(ev)), 0, 0)
	return e
}

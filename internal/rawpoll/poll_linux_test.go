package rawpoll

import (
	"context"
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func pipe(t *testing.T) (r, w int) {
	t.Helper()
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(p[0]); unix.Close(p[1]) })
	return p[0], p[1]
}

func sharedPoller(t *testing.T) *Poller {
	t.Helper()
	p, err := Shared()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A readable descriptor is reported once; an idle one only ends with its
// context, disarmed.
func TestWaitReadable(t *testing.T) {
	p := sharedPoller(t)
	r, w := pipe(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if ev, err := p.Wait(ctx, r, unix.EPOLLIN); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("empty pipe: events %#x, err %v; want the deadline", ev, err)
	}
	time.AfterFunc(20*time.Millisecond, func() { unix.Write(w, []byte("x")) })
	ev, err := p.Wait(context.Background(), r, unix.EPOLLIN)
	if err != nil || ev&unix.EPOLLIN == 0 {
		t.Fatalf("after a write: events %#x, err %v; want EPOLLIN", ev, err)
	}
	// Still readable: armed again, it is reported again at once.
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if ev, err := p.Wait(ctx, r, unix.EPOLLIN); err != nil || ev&unix.EPOLLIN == 0 {
		t.Fatalf("re-armed, still readable: events %#x, err %v", ev, err)
	}
}

// The reader of a pipe whose writer closed sees EPOLLHUP without asking.
func TestWaitHangup(t *testing.T) {
	p := sharedPoller(t)
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	unix.Close(fds[1])
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ev, err := p.Wait(ctx, fds[0], 0)
	if err != nil || ev&unix.EPOLLHUP == 0 {
		t.Fatalf("events %#x, err %v; want EPOLLHUP", ev, err)
	}
}

// Many descriptors armed at once each get their own notification, more
// than one epoll_pwait's worth.
func TestManyWaiters(t *testing.T) {
	p := sharedPoller(t)
	const n = 100
	ch := make(chan Event, n)
	ws := make(map[int]int, n)
	for range n {
		r, w := pipe(t)
		ws[r] = w
		if err := p.Arm(r, unix.EPOLLIN, ch); err != nil {
			t.Fatal(err)
		}
	}
	for _, w := range ws {
		unix.Write(w, []byte("x"))
	}
	got := make(map[int]bool)
	timeout := time.After(10 * time.Second)
	for len(got) < n {
		select {
		case ev := <-ch:
			if _, ok := ws[ev.FD]; !ok || got[ev.FD] {
				t.Fatalf("unexpected or repeated event for fd %d", ev.FD)
			}
			got[ev.FD] = true
		case <-timeout:
			t.Fatalf("%d of %d notifications", len(got), n)
		}
	}
}

// A disarmed descriptor is not reported, and arming a bad one fails.
func TestDisarmAndBadFD(t *testing.T) {
	p := sharedPoller(t)
	r, w := pipe(t)
	ch := make(chan Event, 1)
	if err := p.Arm(r, unix.EPOLLIN, ch); err != nil {
		t.Fatal(err)
	}
	p.Disarm(r)
	unix.Write(w, []byte("x"))
	select {
	case ev := <-ch:
		t.Fatalf("disarmed descriptor reported %+v", ev)
	case <-time.After(100 * time.Millisecond):
	}
	if err := p.Arm(-1, unix.EPOLLIN, ch); err == nil {
		t.Fatal("arming fd -1 succeeded")
	}
}

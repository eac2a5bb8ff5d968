package rawpoll

import (
	"os"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// kernelTimer is a Timer's timerfd, waited for in the runtime's poller by a
// goroutine of its own: an expiry wakes that goroutine directly, with no
// epoll descriptor in between.
type kernelTimer struct {
	fd   int      // owned by f; f.Fd would make it blocking
	f    *os.File // registered in the runtime's poller
	done chan struct{}

	mu   sync.Mutex
	spec unix.ItimerSpec // on the heap, for the kernel
	// count receives the expirations read, by the waiting goroutine only.
	count uint64
}

func newKernelTimer(fire func()) (*kernelTimer, error) {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("timerfd_create", err)
	}
	// Non-blocking, so that os.NewFile registers it in the runtime's poller.
	f := os.NewFile(uintptr(fd), "timerfd")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	k := &kernelTimer{fd: fd, f: f, done: make(chan struct{})}
	go k.wait(rc, fire)
	return k, nil
}

// wait reads each expiry and fires, until the timer is closed. It stays in
// one RawConn.Read for the timer's whole life: the poller's readiness is
// cleared only when a Read begins, so an expiry that comes while fire runs
// is seen, and after a firing the goroutine parks without first trying a
// read that would find nothing.
func (k *kernelTimer) wait(rc syscall.RawConn, fire func()) {
	defer close(k.done)
	_ = rc.Read(func(fd uintptr) bool {
		for {
			_, _, e := unix.RawSyscall(unix.SYS_READ, fd, uintptr(unsafe.Pointer(&k.count)), 8)
			switch e {
			case 0:
				fire()
				return false
			case unix.EINTR:
				continue
			case unix.EAGAIN:
				return false
			}
			return true // cannot happen on an open timerfd
		}
	})
}

// set arms the timerfd: first expiry after value (zero disarms), then
// every interval (zero: once).
func (k *kernelTimer) set(value, interval time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.f == nil {
		return
	}
	k.spec = unix.ItimerSpec{Value: unix.NsecToTimespec(int64(value)), Interval: unix.NsecToTimespec(int64(interval))}
	// Fails only for a bad descriptor or value, neither of which occurs
	// before close.
	_, _, _ = unix.RawSyscall6(unix.SYS_TIMERFD_SETTIME, uintptr(k.fd), 0, uintptr(unsafe.Pointer(&k.spec)), 0, 0, 0)
}

// close releases the timerfd and waits for the goroutine to end; no firing
// comes after it returns.
func (k *kernelTimer) close() error {
	k.mu.Lock()
	f := k.f
	k.f = nil
	k.mu.Unlock()
	if f == nil {
		return nil
	}
	err := f.Close()
	<-k.done
	return err
}

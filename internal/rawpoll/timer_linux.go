package rawpoll

import (
	"os"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// kernelTimer is a Timer's timerfd, watched edge-triggered by the Shared
// Poller: every expiry is one notification.
type kernelTimer struct {
	p  *Poller
	fd int

	mu   sync.Mutex
	spec unix.ItimerSpec // on the heap, for the kernel
	// count receives the expirations read; touched only by the watch
	// function, under the Poller's lock.
	count uint64
}

func newKernelTimer(fire func()) (*kernelTimer, error) {
	p, err := Shared()
	if err != nil {
		return nil, err
	}
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("timerfd_create", err)
	}
	k := &kernelTimer{p: p, fd: fd}
	err = p.watch(fd, unix.EPOLLIN|unix.EPOLLET, func(uint32) {
		// Empty the expiration count, so that the descriptor is
		// readable again only after the next expiry.
		_, _, _ = unix.RawSyscall(unix.SYS_READ, uintptr(k.fd), uintptr(unsafe.Pointer(&k.count)), 8)
		fire()
	})
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	return k, nil
}

// set arms the timerfd: first expiry after value (zero disarms), then
// every interval (zero: once).
func (k *kernelTimer) set(value, interval time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.spec = unix.ItimerSpec{Value: unix.NsecToTimespec(int64(value)), Interval: unix.NsecToTimespec(int64(interval))}
	// Fails only for a bad descriptor or value, neither of which occurs
	// before close.
	_, _, _ = unix.RawSyscall6(unix.SYS_TIMERFD_SETTIME, uintptr(k.fd), 0, uintptr(unsafe.Pointer(&k.spec)), 0, 0, 0)
}

func (k *kernelTimer) close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.fd < 0 {
		return nil
	}
	// After Disarm the watch function no longer runs.
	k.p.Disarm(k.fd)
	err := unix.Close(k.fd)
	k.fd = -1
	return err
}

//go:build !linux

package rawpoll

import (
	"errors"
	"time"
)

// kernelTimer exists only on Linux.
type kernelTimer struct{}

func newKernelTimer(func()) (*kernelTimer, error) {
	return nil, errors.New("rawpoll: no timerfd on this system")
}

func (*kernelTimer) set(value, interval time.Duration) {}
func (*kernelTimer) close() error                      { return nil }

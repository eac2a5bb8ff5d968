//go:build !linux

package agent

import (
	"errors"
	"runtime"
)

func openIPKernel() (ipKernel, error) {
	return nil, errors.New("agent: static and virtual addresses, routes and rules are not implemented on " + runtime.GOOS)
}

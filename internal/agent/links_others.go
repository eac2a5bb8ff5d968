//go:build !linux

package agent

import (
	"context"
	"errors"
	"runtime"

	"github.com/lvskit/lvskit/vrrp"
)

func watchLinks(context.Context, []string) ([]bool, <-chan vrrp.LinkEvent, error) {
	return nil, nil, errors.New("agent: watching interfaces is not implemented on " + runtime.GOOS)
}

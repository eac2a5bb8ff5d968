//go:build !linux

package agent

import (
	"context"
	"fmt"
	"runtime"
)

func (w *haWatch) watchAddrs(ctx context.Context) error {
	return fmt.Errorf("ha_suspend: following the addresses is not implemented on %s/%s", runtime.GOOS, runtime.GOARCH)
}

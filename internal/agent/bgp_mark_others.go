//go:build !linux

package agent

import (
	"fmt"
	"log/slog"
	"runtime"

	"github.com/lvskit/lvskit/internal/config"
)

type bgpMarker struct{}

// startBGPMarker is Linux only.
func startBGPMarker(b *config.BGP, log *slog.Logger) (*bgpMarker, error) {
	if len(markRules(b)) == 0 {
		return nil, nil
	}
	return nil, fmt.Errorf("bgp: marking what the routers send: not implemented on %s/%s", runtime.GOOS, runtime.GOARCH)
}

func (bm *bgpMarker) stop(log *slog.Logger) {}

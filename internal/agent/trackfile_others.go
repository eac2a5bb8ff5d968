//go:build !linux

package agent

import (
	"context"
	"errors"
	"log/slog"
	"runtime"

	"github.com/lvskit/lvskit/internal/config"
)

const noBlock = 0

func watchFiles(context.Context, []config.TrackedFile, *slog.Logger) ([]fileValue, <-chan fileValue, error) {
	return nil, nil, errors.New("agent: watching tracked files is not implemented on " + runtime.GOOS)
}

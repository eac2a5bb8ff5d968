//go:build !linux

package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
)

func faultRun(_ context.Context, _ *options, out io.Writer) int {
	fmt.Fprintf(out, "faults: needs Linux (network namespaces, IPVS), not %s\n", runtime.GOOS)
	return 1
}

//go:build !linux

package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
)

func bench(_ context.Context, _ *options, out io.Writer) int {
	fmt.Fprintf(out, "lbnode-bench: needs Linux (network namespaces, IPVS), not %s\n", runtime.GOOS)
	return 1
}

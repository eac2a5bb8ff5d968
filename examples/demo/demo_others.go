//go:build !linux

package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
)

type demo struct {
	out     io.Writer
	lbnode  string
	preempt bool
	bgp     bool
	inVM    bool
	v3      bool
}

func (d *demo) run(context.Context) int {
	fmt.Fprintf(d.out, "demo: needs Linux, not %s\n", runtime.GOOS)
	return 1
}

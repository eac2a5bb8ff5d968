//go:build !linux

package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "ipvsrestore: needs Linux (IPVS, network namespaces)")
	os.Exit(1)
}

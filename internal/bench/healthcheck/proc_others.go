//go:build !linux

package main

import "os/exec"

// dieWithParent does nothing outside Linux: the parent kills its children
// on every normal exit path.
func dieWithParent(*exec.Cmd) {}

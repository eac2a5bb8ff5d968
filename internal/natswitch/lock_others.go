//go:build !linux

package natswitch

import "errors"

// lockFile fails: natswitch takes its lock with flock(2) on Linux only,
// where the rules it switches exist.
func lockFile(path string) (func(), error) {
	return nil, errors.New("file locks are not supported on this system")
}

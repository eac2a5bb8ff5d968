//go:build !unix

package natswitch

import "errors"

func lockFile(path string) (func(), error) {
	return nil, errors.New("file locks are not supported on this system")
}

//go:build !linux

package vrrp

// SetRealtimePriority returns ErrUnsupported off Linux.
func SetRealtimePriority(prio int) error { return ErrUnsupported }

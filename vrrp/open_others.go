//go:build !linux

package vrrp

// Open is only implemented on Linux; elsewhere it returns ErrUnsupported.
// Use New with your own Conn and Host.
func Open(cfgs []Config, opts *Options) (*Router, error) {
	return nil, ErrUnsupported
}

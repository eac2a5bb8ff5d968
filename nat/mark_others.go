//go:build !linux

package nat

import "net"

// Marker exists only on Linux; here OpenMarker returns ErrUnsupported.
type Marker struct{}

// OpenMarker validates cfg and returns ErrUnsupported.
func OpenMarker(cfg *MarkConfig) (*Marker, error) {
	if _, err := cfg.validate(); err != nil {
		return nil, err
	}
	return nil, ErrUnsupported
}

// SetSources returns ErrUnsupported.
func (m *Marker) SetSources(macs []net.HardwareAddr) error { return ErrUnsupported }

// Sources returns ErrUnsupported.
func (m *Marker) Sources() ([]net.HardwareAddr, error) { return nil, ErrUnsupported }

// Close returns nil.
func (m *Marker) Close() error { return nil }

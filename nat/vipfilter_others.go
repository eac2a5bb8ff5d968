//go:build !linux

package nat

// VIPFilter exists only on Linux; here OpenVIPFilter returns
// ErrUnsupported.
type VIPFilter struct{}

// OpenVIPFilter validates cfg and returns ErrUnsupported.
func OpenVIPFilter(cfg *VIPFilterConfig) (*VIPFilter, error) {
	if _, err := cfg.validate(); err != nil {
		return nil, err
	}
	return nil, ErrUnsupported
}

// SetVIPs returns ErrUnsupported.
func (f *VIPFilter) SetVIPs(vips []FilteredVIP) error { return ErrUnsupported }

// SetVMACs returns ErrUnsupported.
func (f *VIPFilter) SetVMACs(vmacs []FilteredVMAC) error { return ErrUnsupported }

// Close returns nil.
func (f *VIPFilter) Close() error { return nil }

//go:build !linux

package nat

// Switch toggles the DNAT rules of one Config. It exists only on Linux; here
// Open returns ErrUnsupported.
type Switch struct{ cfg Config }

// Open validates cfg and returns ErrUnsupported.
func Open(cfg *Config) (*Switch, error) {
	if _, err := cfg.validate(); err != nil {
		return nil, err
	}
	return nil, ErrUnsupported
}

// Wanted returns the rules that Backup installs.
func (s *Switch) Wanted() []Rule { return wantRules(s.cfg) }

// Backup returns ErrUnsupported.
func (s *Switch) Backup() error { return ErrUnsupported }

// Master returns ErrUnsupported.
func (s *Switch) Master() error { return ErrUnsupported }

// Installed returns ErrUnsupported.
func (s *Switch) Installed() ([]Rule, error) { return nil, ErrUnsupported }

// Cleanup returns ErrUnsupported.
func (s *Switch) Cleanup() error { return ErrUnsupported }

// Close does nothing.
func (s *Switch) Close() error { return nil }

// Drain returns ErrUnsupported.
func (s *Switch) Drain(ports []Port) error { return ErrUnsupported }

// Undrain returns ErrUnsupported.
func (s *Switch) Undrain() error { return ErrUnsupported }

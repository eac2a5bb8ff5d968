package agent

import (
	"testing"

	"github.com/lvskit/lvskit/internal/config"
	"golang.org/x/sys/unix"
)

// config names the IFA_F_* flags without x/sys/unix; the agent hands
// them to the kernel as they are, so they must be the kernel's.
func TestConfigAddrFlagsAreTheKernels(t *testing.T) {
	for _, f := range []struct {
		name         string
		config, unix uint32
	}{
		{"home", config.IFAFHomeAddress, unix.IFA_F_HOMEADDRESS},
		{"mngtmpaddr", config.IFAFManageTempAddr, unix.IFA_F_MANAGETEMPADDR},
		{"noprefixroute", config.IFAFNoPrefixRoute, unix.IFA_F_NOPREFIXROUTE},
		{"autojoin", config.IFAFMCAutojoin, unix.IFA_F_MCAUTOJOIN},
	} {
		if f.config != f.unix {
			t.Errorf("%s: config has 0x%x, the kernel 0x%x", f.name, f.config, f.unix)
		}
	}
}

package agent

import (
	"github.com/lvskit/lvskit/internal/config"
	"github.com/lvskit/lvskit/vrrp"
)

// vmacNames returns the VMAC interface name of each instance with
// use_vmac, by instance name, as keepalived 2.2.7 names them: the
// configured name, else the first of vrrp.VRID, vrrp1.VRID, ... (for
// IPv6 vrrp6.VRID second; "vrrp" or the vmac_prefix) that no other instance uses, in the order of
// the file (vrrp.c create_vmac_name). vrrp.Open may still change a name
// that an interface of the system holds, as keepalived does.
func vmacNames(cfg *config.Config) map[string]string {
	names := map[string]string{}
	used := map[string]bool{}
	for _, in := range cfg.VRRP {
		if in.VMAC != nil && in.VMAC.Name != "" {
			names[in.Name] = in.VMAC.Name
			used[in.VMAC.Name] = true
		}
	}
	for _, in := range cfg.VRRP {
		if in.VMAC == nil || in.VMAC.Name != "" {
			continue
		}
		for _, n := range vrrp.VMACNames(cfg.Global.VMACPrefix, uint8(in.VirtualRouterID), in.IPv6(), 256) {
			if !used[n] {
				names[in.Name], used[n] = n, true
				break
			}
		}
	}
	return names
}

// routerKey names the router an instance runs in: its interface, or its
// VMAC when the adverts go there (one router per VMAC).
func routerKey(in *config.VRRPInstance, vmacs map[string]string) string {
	if in.VMAC != nil && !in.VMAC.XmitBase {
		return vmacs[in.Name]
	}
	return in.Interface
}

// vrrpVMAC maps an instance's use_vmac.
func vrrpVMAC(in *config.VRRPInstance, vmacs map[string]string) *vrrp.VMAC {
	if in.VMAC == nil {
		return nil
	}
	return &vrrp.VMAC{Name: vmacs[in.Name], Addr: in.VMAC.Addr, XmitBase: in.VMAC.XmitBase}
}

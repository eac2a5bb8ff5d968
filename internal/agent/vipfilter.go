package agent

import (
	"fmt"
	"log/slog"
	"reflect"
	"sync"

	"github.com/lvskit/lvskit/internal/config"
	"github.com/lvskit/lvskit/nat"
	"github.com/lvskit/lvskit/vrrp"
)

// keepalived 2.2.7's firewall for instances without accept mode
// (no_accept, or strict mode for a backup router): while such an instance
// is MASTER its VIPs are in the set of nftables table "keepalived" (or the
// global nftables name), whose rules drop what is sent to them and what
// the node would send from them (vrrp.c vrrp_handle_accept_mode,
// vrrp_nftables.c). keepalived adds them before it adds the VIPs and
// removes them after it removes the VIPs, and so does lbnode, from the
// routers' BeforeAddVIPs and AfterRemoveVIPs.

// VIPFilter is the nftables firewall of the VIPs (nat.VIPFilter).
type VIPFilter interface {
	SetVIPs(vips []nat.FilteredVIP) error
	SetVMACs(vmacs []nat.FilteredVMAC) error
	Close() error
}

// vipFilterSpec is what the firewall needs from the configuration: the
// table settings, by instance without accept mode the VIPs, and the VMACs
// whose IGMP and MLD reports go out of their base interfaces (keepalived
// adds those rules for every use_vmac, vrrp_nftables.c nft_add_vmac).
type vipFilterSpec struct {
	cfg   nat.VIPFilterConfig
	vips  map[string][]nat.FilteredVIP
	vmacs []nat.FilteredVMAC
}

// newVIPFilterSpec returns the firewall the configuration needs, or nil
// when no instance runs without accept mode or with a VMAC.
func newVIPFilterSpec(cfg *config.Config, routers map[string][]vrrp.Config) *vipFilterSpec {
	noAccept := map[string]bool{}
	var vmacs []nat.FilteredVMAC
	names := vmacNames(cfg)
	for _, in := range cfg.VRRP {
		if in.NoAccept {
			noAccept[in.Name] = true
		}
		if in.VMAC != nil {
			vmacs = append(vmacs, nat.FilteredVMAC{Interface: names[in.Name], Base: in.Interface, IPv6: in.IPv6()})
		}
	}
	if len(noAccept) == 0 && len(vmacs) == 0 {
		return nil
	}
	nf := cfg.Global.NFTables
	s := &vipFilterSpec{cfg: nat.VIPFilterConfig{Table: nf.Table, Priority: nf.Priority, Counters: nf.Counters}, vips: map[string][]nat.FilteredVIP{}, vmacs: vmacs}
	for _, key := range sortedKeys(routers) {
		for _, vc := range routers[key] {
			if !noAccept[vc.Name] {
				continue
			}
			// keepalived filters the excluded addresses too, each on its
			// own interface.
			for _, a := range vc.Addresses() {
				s.vips[vc.Name] = append(s.vips[vc.Name], nat.FilteredVIP{Addr: a.Prefix.Addr(), Interface: a.Interface})
			}
		}
	}
	return s
}

// sameVIPFilter reports whether two configurations need the same firewall.
func sameVIPFilter(a, b *config.Config, ra, rb map[string][]vrrp.Config) bool {
	return reflect.DeepEqual(newVIPFilterSpec(a, ra), newVIPFilterSpec(b, rb))
}

// vipFilter makes the firewall's set follow the instances' states.
type vipFilter struct {
	mu   sync.Mutex
	spec *vipFilterSpec
	f    VIPFilter
	held map[string]bool // instances without accept mode that are MASTER
	log  *slog.Logger
}

func openVIPFilter(spec *vipFilterSpec, open func(*nat.VIPFilterConfig) (VIPFilter, error), log *slog.Logger) (*vipFilter, error) {
	f, err := open(&spec.cfg)
	if err != nil {
		return nil, fmt.Errorf("vrrp firewall (no_accept / strict mode): %w", err)
	}
	return &vipFilter{spec: spec, f: f, held: map[string]bool{}, log: log}, nil
}

// startVMACs adds the VMACs, once the routers have created them.
func (v *vipFilter) startVMACs() {
	if v == nil || len(v.spec.vmacs) == 0 {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.f.SetVMACs(v.spec.vmacs); err != nil {
		v.log.Error("vrrp firewall: rules for the VMACs' IGMP/MLD reports not added", "table", v.table(), "err", err)
		return
	}
	v.log.Info("vrrp firewall: VMACs' IGMP/MLD reports sent out of their base interfaces", "table", v.table(), "vmacs", len(v.spec.vmacs))
}

// hold adds an instance's addresses to the set (master) right before its
// router adds them, or removes them right after the router removed them;
// it is called from the router's loop.
func (v *vipFilter) hold(instance string, master bool) {
	if v == nil {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, ok := v.spec.vips[instance]; !ok {
		return
	}
	if v.held[instance] == master {
		return
	}
	v.held[instance] = master
	var all []nat.FilteredVIP
	for _, name := range sortedKeys(v.spec.vips) {
		if v.held[name] {
			all = append(all, v.spec.vips[name]...)
		}
	}
	verb := "removed from"
	if master {
		verb = "added to"
	}
	if err := v.f.SetVIPs(all); err != nil {
		v.log.Error("vrrp firewall: VIPs not "+verb+" the drop set", "instance", instance, "table", v.table(), "err", err)
		return
	}
	v.log.Info("vrrp firewall: VIPs "+verb+" the drop set", "instance", instance, "table", v.table(), "filtered", len(all))
}

func (v *vipFilter) table() string {
	if v.spec.cfg.Table == "" {
		return nat.DefaultVIPFilterTable
	}
	return v.spec.cfg.Table
}

// close deletes the tables, as keepalived does at exit.
func (v *vipFilter) close() {
	if v == nil {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.f.Close(); err != nil {
		v.log.Error("vrrp firewall: deleting the tables", "table", v.table(), "err", err)
	}
}

package frr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/topology"
)

// VRRPConfig is FRR's vrrpd as a VRRP peer: virtual routers on one
// interface of the namespace.
type VRRPConfig struct {
	// Interface is the base interface: it carries the adverts and is the
	// parent of the virtual routers' macvlan interfaces. Its first IPv4
	// address is the source of IPv4 adverts.
	Interface string
	Routers   []VRRPRouter
}

// VRRPRouter is one `vrrp VRID` of vrrpd. Its IPv4 and IPv6 virtual
// routers are independent, as RFC 5798 has them; a family without VIPs is
// not started.
type VRRPRouter struct {
	VRID uint8 // 1-255
	// Version is 2 or 3; 0 means 3.
	Version int
	// Priority is 1-254 (FRR has no address owner); 0 means FRR's 100.
	Priority uint8
	// AdvertInterval is a multiple of 10 ms from 10 ms to 40.95 s; 0
	// means FRR's 1 s.
	AdvertInterval time.Duration
	// VIPs are the virtual addresses, put on the family's macvlan
	// interface (see [MacvlanName]) with their prefix length.
	VIPs []netip.Prefix
	// NoPreempt turns FRR's preempt mode off.
	NoPreempt bool
}

// AvailableVRRP reports why FRR's vrrpd cannot run here ("" when it can).
func AvailableVRRP() string {
	for _, d := range []string{"zebra", "vrrpd"} {
		if _, err := os.Stat(filepath.Join(Bin, d)); err != nil {
			return "FRR is not installed (" + filepath.Join(Bin, d) + " missing; apt-get install frr)"
		}
	}
	if _, err := exec.LookPath("vtysh"); err != nil {
		return "vtysh is missing (apt-get install frr)"
	}
	if _, err := user.Lookup("frr"); err != nil {
		return "no frr user (apt-get install frr)"
	}
	return ""
}

// MacvlanName is the name of the macvlan interface that carries a virtual
// router's MAC (00:00:5e:00:01:VRID, or 00:00:5e:00:02:VRID for IPv6)
// and VIPs on the base interface with index ifindex, as FRR's
// documentation names them: vrrp4-IFINDEX-VRID, vrrp6-IFINDEX-VRID.
func MacvlanName(ifindex int, vrid uint8, ipv6 bool) string {
	f := 4
	if ipv6 {
		f = 6
	}
	return fmt.Sprintf("vrrp%d-%d-%d", f, ifindex, vrid)
}

func validateVRRP(cfg VRRPConfig) error {
	if cfg.Interface == "" {
		return errors.New("frr: VRRPConfig.Interface is empty")
	}
	if len(cfg.Routers) == 0 {
		return errors.New("frr: VRRPConfig.Routers is empty")
	}
	seen := map[uint8]bool{}
	for _, v := range cfg.Routers {
		switch {
		case v.VRID == 0:
			return errors.New("frr: VRRPRouter.VRID 0: want 1-255")
		case seen[v.VRID]:
			return fmt.Errorf("frr: VRRPRouter.VRID %d configured twice", v.VRID)
		case v.Version != 0 && v.Version != 2 && v.Version != 3:
			return fmt.Errorf("frr: VRRPRouter.Version %d: want 2 or 3", v.Version)
		case v.Priority == 255:
			return errors.New("frr: VRRPRouter.Priority 255: FRR allows 1-254")
		case v.AdvertInterval != 0 && (v.AdvertInterval%(10*time.Millisecond) != 0 ||
			v.AdvertInterval < 10*time.Millisecond || v.AdvertInterval > 40950*time.Millisecond):
			return fmt.Errorf("frr: VRRPRouter.AdvertInterval %v: want a multiple of 10ms from 10ms to 40.95s", v.AdvertInterval)
		case len(v.VIPs) == 0:
			return fmt.Errorf("frr: VRRPRouter.VIPs of VRID %d is empty", v.VRID)
		}
		for _, p := range v.VIPs {
			if !p.IsValid() {
				return fmt.Errorf("frr: VRRPRouter.VIPs of VRID %d: invalid prefix %v", v.VRID, p)
			}
			if p.Addr().Is6() && v.Version == 2 {
				return fmt.Errorf("frr: VRRPRouter.VIPs %v: VRRPv2 has no IPv6", p)
			}
		}
		seen[v.VRID] = true
	}
	return nil
}

func vrrpdConf(c VRRPConfig) string {
	var b strings.Builder
	b.WriteString("debug vrrp protocol\n")
	fmt.Fprintf(&b, "interface %s\n", c.Interface)
	for _, v := range c.Routers {
		ver := v.Version
		if ver == 0 {
			ver = 3
		}
		fmt.Fprintf(&b, " vrrp %d version %d\n", v.VRID, ver)
		if v.Priority != 0 {
			fmt.Fprintf(&b, " vrrp %d priority %d\n", v.VRID, v.Priority)
		}
		if v.AdvertInterval != 0 {
			fmt.Fprintf(&b, " vrrp %d advertisement-interval %d\n", v.VRID, v.AdvertInterval.Milliseconds())
		}
		if v.NoPreempt {
			fmt.Fprintf(&b, " no vrrp %d preempt\n", v.VRID)
		}
		for _, p := range v.VIPs {
			kw := "ip"
			if p.Addr().Is6() {
				kw = "ipv6"
			}
			fmt.Fprintf(&b, " vrrp %d %s %s\n", v.VRID, kw, p.Addr())
		}
	}
	return b.String()
}

// StartVRRP prepares what vrrpd needs in ns and starts zebra and vrrpd
// there. For each virtual router and family with VIPs it creates (or,
// when it exists, reuses) the macvlan interface on cfg.Interface that FRR's
// documentation asks for: mode bridge, the virtual MAC, addrgenmode random
// (so that its IPv6 link-local address, the source of IPv6 adverts, is not
// the base interface's), the VIPs, up. vrrpd then puts it in protodown
// while BACKUP: the VIPs stay on it but are out of service (see
// [Router.VRRPLive]). Close stops the daemons and removes their folder;
// the macvlan interfaces stay, so that vrrpd can be started again with the
// same configuration, and go with the namespace.
func StartVRRP(ctx context.Context, ns *topology.NS, cfg VRRPConfig) (*Router, error) {
	if why := AvailableVRRP(); why != "" {
		return nil, errors.New(why)
	}
	if err := validateVRRP(cfg); err != nil {
		return nil, err
	}
	if err := makeMacvlans(ns, cfg); err != nil {
		return nil, err
	}
	dir, err := newDir(map[string]string{
		"zebra.conf": "hostname router\n",
		"vrrpd.conf": vrrpdConf(cfg),
		"vtysh.conf": "",
	})
	if err != nil {
		return nil, err
	}
	r := &Router{NS: ns, Dir: dir}
	if err := r.startDaemons(ctx, []daemon{
		{"zebra", nil, "zserv.api"},
		{"vrrpd", []string{"--log", "stdout", "--log-level", "debug"}, "vrrpd.vty"},
	}); err != nil {
		return nil, err
	}
	return r, nil
}

func makeMacvlans(ns *topology.NS, cfg VRRPConfig) error {
	nl, err := ns.Netlink()
	if err != nil {
		return err
	}
	base, err := nl.LinkByName(cfg.Interface)
	if err != nil {
		return fmt.Errorf("frr: VRRPConfig.Interface %q: %w", cfg.Interface, err)
	}
	ifindex := base.Attrs().Index
	run := func(args ...string) error {
		if out, err := ns.Command("ip", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("frr: in %s: ip %s: %v: %s", ns.Name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
		return nil
	}
	for _, v := range cfg.Routers {
		for _, ipv6 := range []bool{false, true} {
			var vips []netip.Prefix
			for _, p := range v.VIPs {
				if p.Addr().Is6() == ipv6 {
					vips = append(vips, p)
				}
			}
			if len(vips) == 0 {
				continue
			}
			name := MacvlanName(ifindex, v.VRID, ipv6)
			fam := byte(1)
			if ipv6 {
				fam = 2
			}
			mac := fmt.Sprintf("00:00:5e:00:%02x:%02x", fam, v.VRID)
			if _, err := nl.LinkByName(name); err == nil {
				continue // made by an earlier start
			}
			// addrgenmode is set after creation: iproute2 6.1 on a 6.x
			// kernel refuses it in `ip link add ... type macvlan`.
			steps := [][]string{
				{"link", "add", name, "link", cfg.Interface, "type", "macvlan", "mode", "bridge"},
				{"link", "set", "dev", name, "address", mac},
				{"link", "set", "dev", name, "addrgenmode", "random"},
			}
			for _, p := range vips {
				steps = append(steps, []string{"addr", "add", p.String(), "dev", name, "nodad"})
			}
			steps = append(steps, []string{"link", "set", "dev", name, "up"})
			for _, s := range steps {
				if s[0] == "addr" && !ipv6 {
					s = s[:len(s)-1] // nodad is IPv6's
				}
				if err := run(s...); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// VRRPStatus is one virtual router as `show vrrp json` reports it.
type VRRPStatus struct {
	VRID        int  `json:"vrid"`
	Version     int  `json:"version"`
	Shutdown    bool `json:"shutdown"`
	PreemptMode bool `json:"preemptMode"`
	// Interface is the base interface.
	Interface string `json:"interface"`
	// AdvertisementInterval is the configured interval in milliseconds.
	AdvertisementInterval int        `json:"advertisementInterval"`
	V4                    VRRPFamily `json:"v4"`
	V6                    VRRPFamily `json:"v6"`
}

// VRRPFamily is the IPv4 or IPv6 virtual router of a VRRPStatus. Times
// are in milliseconds.
type VRRPFamily struct {
	// Interface is the macvlan interface ("" when none was found).
	Interface      string `json:"interface"`
	VMAC           string `json:"vmac"`
	PrimaryAddress string `json:"primaryAddress"`
	// Status is "Initialize", "Backup" or "Master".
	Status              string `json:"status"`
	EffectivePriority   int    `json:"effectivePriority"`
	MasterAdverInterval int    `json:"masterAdverInterval"`
	SkewTime            int    `json:"skewTime"`
	MasterDownInterval  int    `json:"masterDownInterval"`
	Stats               struct {
		AdverTx     int `json:"adverTx"`
		AdverRx     int `json:"adverRx"`
		Transitions int `json:"transitions"`
	} `json:"stats"`
	Addresses []string `json:"addresses"`
}

// VRRP returns vrrpd's virtual routers, from `show vrrp json`.
func (r *Router) VRRP() ([]VRRPStatus, error) {
	out, err := r.VTY("show vrrp json")
	if err != nil {
		return nil, fmt.Errorf("frr: show vrrp json: %v: %s", err, strings.TrimSpace(out))
	}
	var st []VRRPStatus
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		return nil, fmt.Errorf("frr: show vrrp json: %v: %s", err, strings.TrimSpace(out))
	}
	return st, nil
}

// VRRPFamilyStatus returns the IPv4 or IPv6 virtual router vrid.
func (r *Router) VRRPFamilyStatus(vrid uint8, ipv6 bool) (VRRPFamily, error) {
	st, err := r.VRRP()
	if err != nil {
		return VRRPFamily{}, err
	}
	for _, s := range st {
		if s.VRID == int(vrid) {
			if ipv6 {
				return s.V6, nil
			}
			return s.V4, nil
		}
	}
	return VRRPFamily{}, fmt.Errorf("frr: show vrrp json has no VRID %d", vrid)
}

// VRRPLive reports whether the VIPs of the IPv4 or IPv6 virtual router
// vrid on base interface ifname are in service: its macvlan interface is
// up and not in protodown, which is how vrrpd takes them out of service
// as BACKUP (the addresses stay configured).
func (r *Router) VRRPLive(ifname string, vrid uint8, ipv6 bool) (bool, error) {
	ns := r.NS
	nl, err := ns.Netlink()
	if err != nil {
		return false, err
	}
	base, err := nl.LinkByName(ifname)
	if err != nil {
		return false, err
	}
	name := MacvlanName(base.Attrs().Index, vrid, ipv6)
	out, err := ns.Command("ip", "-j", "link", "show", "dev", name).CombinedOutput()
	if err != nil {
		return false, fmt.Errorf("frr: ip link show %s: %v: %s", name, err, strings.TrimSpace(string(out)))
	}
	var links []struct {
		Flags     []string `json:"flags"`
		Operstate string   `json:"operstate"`
		ProtoDown bool     `json:"proto_down"`
	}
	if err := json.Unmarshal(out, &links); err != nil || len(links) != 1 {
		return false, fmt.Errorf("frr: ip -j link show %s: %v: %s", name, err, out)
	}
	l := links[0]
	return !l.ProtoDown && l.Operstate == "UP", nil
}

// Daemon returns the running daemon called name ("zebra", "vrrpd", ...),
// or nil, so that a test can signal it.
func (r *Router) Daemon(name string) *topology.Proc {
	for _, p := range r.proc {
		if filepath.Base(p.Name()) == name {
			return p
		}
	}
	return nil
}

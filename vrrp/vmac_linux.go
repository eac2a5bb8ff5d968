package vrrp

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// vmacLink is a VMAC interface Open set up, removed when the Router
// closes.
type vmacLink struct {
	name  string
	index int
	base  string // the interface it is on
	ipv4  bool   // IPv4 sysctls were set for it
}

// setupVMAC finds or creates the VMAC of c (normalized) and sets it up as
// keepalived 2.2.7 does (vrrp_vmac.c netlink_link_add_vmac): a private
// macvlan on c.Interface with the virtual MAC; for an IPv4 instance the
// sysctls of vrrp_if_config.c (arp_ignore 1, accept_local 1, rp_filter 0
// and promote_secondaries 1 on the VMAC; arp_ignore and arp_filter 1 on
// the base interface, restored at the end; rp_filter cleared in "all")
// and IPv6 disabled on it; IPv6 address generation off; up; and for an
// IPv6 instance sending on it, a link-local address, the base
// interface's. It returns the name the VMAC has, which may differ from
// c.VMAC.Name as in keepalived.
func (h *linuxHost) setupVMAC(c *Config, known []string, log *slog.Logger) (string, error) {
	base := h.links[c.Interface]
	ba := base.Attrs()
	if len(ba.HardwareAddr) != 6 {
		return "", &FieldError{Field: "Interface", Value: ba.Name, Msg: "VMACs are only supported on Ethernet interfaces"}
	}
	mac := c.vmacAddr()
	links, err := h.nl.LinkList()
	if err != nil {
		return "", fmt.Errorf("vrrp: listing interfaces: %w", err)
	}
	byName := map[string]netlink.Link{}
	var found netlink.Link
	for _, l := range links {
		a := l.Attrs()
		byName[a.Name] = l
		if mv, ok := l.(*netlink.Macvlan); ok && found == nil && a.ParentIndex == ba.Index &&
			mv.Mode == netlink.MACVLAN_MODE_PRIVATE && bytes.Equal(a.HardwareAddr, mac) {
			found = l
		}
	}
	name := c.VMAC.Name
	created := false
	switch {
	case found != nil:
		// keepalived uses a matching interface under its name.
		if found.Attrs().Name != name {
			log.Info("vrrp: VMAC name mismatch: using the matching interface", "instance", c.Name, "configured", name, "interface", found.Attrs().Name)
			name = found.Attrs().Name
		}
	default:
		if old, ok := byName[name]; ok {
			if _, isMacvlan := old.(*netlink.Macvlan); isMacvlan {
				log.Info("vrrp: VMAC already exists but is incompatible: it will be replaced", "instance", c.Name, "interface", name)
				if err := h.nl.LinkDel(old); err != nil {
					return "", fmt.Errorf("vrrp: removing old VMAC interface %s: %w", name, err)
				}
				delete(byName, name)
			} else {
				// keepalived ignores the configured name and takes
				// the first free of its default names.
				log.Warn("vrrp: VMAC interface name already exists as a non VMAC interface: configured name ignored", "instance", c.Name, "interface", name)
				name = ""
				for _, n := range VMACNames("vrrp", c.VRID, c.IPv6, 100) {
					if _, taken := byName[n]; !taken {
						name = n
						break
					}
				}
				if name == "" {
					return "", &FieldError{Field: "VMAC.Name", Value: c.VMAC.Name, Msg: "no free VMAC interface name"}
				}
			}
		}
		mv := &netlink.Macvlan{LinkAttrs: netlink.LinkAttrs{Name: name, ParentIndex: ba.Index, HardwareAddr: mac},
			Mode: netlink.MACVLAN_MODE_PRIVATE}
		if err := h.nl.LinkAdd(mv); err != nil {
			return "", fmt.Errorf("vrrp: creating VMAC interface %s on %s: %w", name, ba.Name, err)
		}
		created = true
	}
	l, err := h.nl.LinkByName(name)
	if err != nil {
		return "", fmt.Errorf("vrrp: VMAC interface %s: %w", name, err)
	}
	v := &vmacLink{name: name, index: l.Attrs().Index, base: ba.Name}
	// Removed at the end whether created or found, as keepalived does.
	h.vmacs = append(h.vmacs, v)
	if !c.IPv6 && created {
		v.ipv4 = true
		if err := keeper.set(h.ns, name, ba.Name, known, log); err != nil {
			return "", err
		}
	}
	disable := "0"
	if !c.IPv6 {
		// No IPv6 on an IPv4 VMAC: it would send router solicitations
		// and MLD reports from the virtual MAC.
		disable = "1"
	}
	if err := inNS(h.ns, func() error { return writeSysctl("net/ipv6/conf/"+name+"/disable_ipv6", disable) }); err != nil {
		return "", err
	}
	// No link-local address from the virtual MAC (RFC 5798 section 7.4).
	if err := h.nl.LinkSetIP6AddrGenMode(l, in6AddrGenModeNone); err != nil {
		log.Warn("vrrp: setting IPv6 address generation off", "interface", name, "err", err)
	}
	if err := h.nl.LinkSetUp(l); err != nil {
		return "", fmt.Errorf("vrrp: bringing VMAC interface %s up: %w", name, err)
	}
	if c.IPv6 && !c.VMAC.XmitBase {
		ll := c.UnicastSrc
		if !ll.IsValid() {
			if ll, err = h.linkLocal(base); err != nil {
				ll = eui64LinkLocal(ba.HardwareAddr)
			}
		}
		a := vipAddr(Address{Prefix: netip.PrefixFrom(ll, 64)})
		if err := h.nl.AddrReplace(l, a); err != nil {
			log.Warn("vrrp: adding link-local address to VMAC failed", "instance", c.Name, "interface", name, "err", err)
		}
	}
	// The kernel reports the link running a moment after it is up; the
	// instance starts from that state (bounded wait).
	for i := 0; i < 200; i++ {
		if l, err = h.nl.LinkByName(name); err != nil {
			return "", fmt.Errorf("vrrp: VMAC interface %s: %w", name, err)
		}
		if linkUp(l.Attrs()) || !linkUp(base.Attrs()) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.links[name] = l
	return name, nil
}

// stopVMACs removes the VMACs when the Router stops (removeVMACs).
func (h *linuxHost) stopVMACs() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.removeVMACs()
}

// removeVMACs undoes setupVMAC, as keepalived at shutdown: the rp_filter
// settings first, then for each VMAC the base interface's arp_ignore and
// arp_filter, then the interface.
func (h *linuxHost) removeVMACs() error {
	if len(h.vmacs) == 0 {
		return nil
	}
	var errs []error
	for _, v := range h.vmacs {
		if v.ipv4 {
			errs = append(errs, keeper.reset(h.ns, v.base))
		}
	}
	for _, v := range h.vmacs {
		err := h.nl.LinkDel(&netlink.Macvlan{LinkAttrs: netlink.LinkAttrs{Index: v.index, Name: v.name}})
		if err != nil && !errors.Is(err, unix.ENODEV) {
			errs = append(errs, fmt.Errorf("vrrp: removing VMAC interface %s: %w", v.name, err))
		}
	}
	h.vmacs = nil
	return errors.Join(errs...)
}

// writeSysctl writes value to /proc/sys/path in the calling thread's
// network namespace.
func writeSysctl(path, value string) error {
	if err := os.WriteFile("/proc/sys/"+path, []byte(value), 0); err != nil {
		return fmt.Errorf("vrrp: sysctl %s: %w", strings.ReplaceAll(path, "/", "."), err)
	}
	return nil
}

// readSysctl reads a one-digit sysctl as keepalived does (get_sysctl);
// -1 if it cannot.
func readSysctl(path string) int {
	b, err := os.ReadFile("/proc/sys/" + path)
	if err != nil || len(b) == 0 || b[0] < '0' || b[0] > '9' {
		return -1
	}
	return int(b[0] - '0')
}

// vmacSysctls keeps, per network namespace, what the IPv4 VMACs changed
// that outlives one of them: rp_filter of "all" (cleared while any
// runs), and arp_ignore and arp_filter of each base interface (set while
// a VMAC on it runs). They are kernel settings of the namespace shared by
// every Router of the process, hence one keeper for the package.
type vmacSysctls struct {
	mu sync.Mutex
	ns map[nsID]*nsSysctls
}

type nsID struct{ dev, ino uint64 }

type nsSysctls struct {
	users int // IPv4 VMACs set up
	// rp_filter as found: "all" (-1 when left alone), "default" and the
	// interfaces raised to it (-1: not changed).
	all, def int
	ifaces   map[string]int
	// base interfaces: how many VMACs, and their arp_ignore and
	// arp_filter as found (nil when left alone).
	bases map[string]*baseARP
}

type baseARP struct {
	users          int
	ignore, filter int
	changed        bool
}

var keeper = &vmacSysctls{ns: map[nsID]*nsSysctls{}}

func namespaceID(ns netns.NsHandle) (nsID, error) {
	var st unix.Stat_t
	var err error
	if ns > 0 {
		err = unix.Fstat(int(ns), &st)
	} else {
		err = unix.Stat("/proc/thread-self/ns/net", &st)
	}
	if err != nil {
		return nsID{}, fmt.Errorf("vrrp: network namespace: %w", err)
	}
	return nsID{uint64(st.Dev), st.Ino}, nil
}

// set applies the sysctls of an IPv4 VMAC (vrrp_if_config.c
// set_interface_parameters): rp_filter cleared in "all" when set, after
// raising "default" and each known interface (those the configuration
// names, the only ones keepalived knows of) to its value; arp_ignore 1,
// accept_local 1, rp_filter 0 and promote_secondaries 1 on the VMAC; and
// on its base interface arp_ignore and arp_filter 1, when either is not
// already, for as long as a VMAC on it runs.
func (k *vmacSysctls) set(ns netns.NsHandle, vmac, base string, known []string, log *slog.Logger) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	id, err := namespaceID(ns)
	if err != nil {
		return err
	}
	st := k.ns[id]
	if st == nil {
		st = &nsSysctls{all: -1, def: -1, ifaces: map[string]int{}, bases: map[string]*baseARP{}}
		k.ns[id] = st
	}
	st.users++
	return inNS(ns, func() error {
		if st.all < 0 {
			if all := readSysctl("net/ipv4/conf/all/rp_filter"); all > 0 {
				st.all = all
				if def := readSysctl("net/ipv4/conf/default/rp_filter"); def >= 0 && def < all {
					log.Info("vrrp: NOTICE: setting sysctl net.ipv4.conf.default.rp_filter", "from", def, "to", all)
					st.def = def
					if err := writeSysctl("net/ipv4/conf/default/rp_filter", strconv.Itoa(all)); err != nil {
						return err
					}
				}
				for _, n := range known {
					if v := readSysctl("net/ipv4/conf/" + n + "/rp_filter"); v >= 0 && v < all {
						st.ifaces[n] = v
						if err := writeSysctl("net/ipv4/conf/"+n+"/rp_filter", strconv.Itoa(all)); err != nil {
							return err
						}
					}
				}
				log.Info("vrrp: NOTICE: setting sysctl net.ipv4.conf.all.rp_filter", "from", all, "to", 0)
				if err := writeSysctl("net/ipv4/conf/all/rp_filter", "0"); err != nil {
					return err
				}
			}
		}
		for _, s := range [][2]string{{"arp_ignore", "1"}, {"accept_local", "1"}, {"rp_filter", "0"}, {"promote_secondaries", "1"}} {
			if err := writeSysctl("net/ipv4/conf/"+vmac+"/"+s[0], s[1]); err != nil {
				return err
			}
		}
		b := st.bases[base]
		if b == nil {
			b = &baseARP{}
			st.bases[base] = b
		}
		b.users++
		if b.users > 1 {
			return nil
		}
		b.ignore = readSysctl("net/ipv4/conf/" + base + "/arp_ignore")
		b.filter = readSysctl("net/ipv4/conf/" + base + "/arp_filter")
		if b.ignore != 1 || b.filter != 1 {
			b.changed = true
			for _, s := range []string{"arp_ignore", "arp_filter"} {
				if err := writeSysctl("net/ipv4/conf/"+base+"/"+s, "1"); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// reset undoes set for one VMAC on base: the base interface's settings
// go back when its last VMAC goes, rp_filter when the namespace's last
// one does, each only where it still has the value set (as keepalived's
// restore_rp_filter).
func (k *vmacSysctls) reset(ns netns.NsHandle, base string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	id, err := namespaceID(ns)
	if err != nil {
		return err
	}
	st := k.ns[id]
	if st == nil {
		return nil
	}
	return inNS(ns, func() error {
		var errs []error
		st.users--
		if st.users <= 0 && st.all > 0 {
			all := st.all
			if readSysctl("net/ipv4/conf/all/rp_filter") == 0 {
				errs = append(errs, writeSysctl("net/ipv4/conf/all/rp_filter", strconv.Itoa(all)))
			}
			if st.def >= 0 && readSysctl("net/ipv4/conf/default/rp_filter") == all {
				errs = append(errs, writeSysctl("net/ipv4/conf/default/rp_filter", strconv.Itoa(st.def)))
			}
			for n, v := range st.ifaces {
				if readSysctl("net/ipv4/conf/"+n+"/rp_filter") == all {
					errs = append(errs, writeSysctl("net/ipv4/conf/"+n+"/rp_filter", strconv.Itoa(v)))
				}
			}
			st.all, st.def, st.ifaces = -1, -1, map[string]int{}
		}
		if b := st.bases[base]; b != nil {
			if b.users--; b.users <= 0 {
				if b.changed {
					// Both, as keepalived writes them back together.
					if b.ignore >= 0 {
						errs = append(errs, writeSysctl("net/ipv4/conf/"+base+"/arp_ignore", strconv.Itoa(b.ignore)))
					}
					if b.filter >= 0 {
						errs = append(errs, writeSysctl("net/ipv4/conf/"+base+"/arp_filter", strconv.Itoa(b.filter)))
					}
				}
				delete(st.bases, base)
			}
		}
		if st.users <= 0 && len(st.bases) == 0 {
			delete(k.ns, id)
		}
		return errors.Join(errs...)
	})
}

// in6AddrGenModeNone is IN6_ADDR_GEN_MODE_NONE (linux/if_link.h).
const in6AddrGenModeNone = 1

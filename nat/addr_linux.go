package nat

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// resolveLocal checks that cfg.Interface exists in cfg.NetNS and fills in the
// local addresses that the VIPs need and that are not given.
func resolveLocal(cfg *Config) error {
	var h *netlink.Handle
	var err error
	if cfg.NetNS > 0 {
		h, err = netlink.NewHandleAt(netns.NsHandle(cfg.NetNS), unix.NETLINK_ROUTE)
	} else {
		h, err = netlink.NewHandle(unix.NETLINK_ROUTE)
	}
	if err != nil {
		return fmt.Errorf("nat: opening rtnetlink: %w", err)
	}
	defer h.Close()
	link, err := h.LinkByName(cfg.Interface)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) || errors.Is(err, unix.ENODEV) {
			return fmt.Errorf("nat: Interface %q: no such interface", cfg.Interface)
		}
		return fmt.Errorf("nat: Interface %q: %w", cfg.Interface, err)
	}
	need4, need6 := false, false
	for _, v := range cfg.VIPs {
		if v.Is4() {
			need4 = true
		} else {
			need6 = true
		}
	}
	isVIP := func(a netip.Addr) bool {
		for _, v := range cfg.VIPs {
			if v == a {
				return true
			}
		}
		return false
	}
	if need4 && !cfg.LocalIPv4.IsValid() {
		addrs, err := h.AddrList(link, netlink.FAMILY_V4)
		if err != nil {
			return fmt.Errorf("nat: Interface %q: listing addresses: %w", cfg.Interface, err)
		}
		cfg.LocalIPv4 = pickLocal(addrs, isVIP, unix.IFA_F_SECONDARY)
		if !cfg.LocalIPv4.IsValid() {
			return fmt.Errorf("nat: Interface %q: no IPv4 address (other than a VIP) to redirect IPv4 VIPs to; give LocalIPv4", cfg.Interface)
		}
	}
	if need6 && !cfg.LocalIPv6.IsValid() {
		addrs, err := h.AddrList(link, netlink.FAMILY_V6)
		if err != nil {
			return fmt.Errorf("nat: Interface %q: listing addresses: %w", cfg.Interface, err)
		}
		cfg.LocalIPv6 = pickLocal(addrs, isVIP, unix.IFA_F_DADFAILED|unix.IFA_F_DEPRECATED)
		if !cfg.LocalIPv6.IsValid() {
			return fmt.Errorf("nat: Interface %q: no global IPv6 address (other than a VIP) to redirect IPv6 VIPs to; give LocalIPv6", cfg.Interface)
		}
	}
	return nil
}

// pickLocal returns the first address of global scope that is not a VIP and
// has none of the flags in skip.
func pickLocal(addrs []netlink.Addr, isVIP func(netip.Addr) bool, skip int) netip.Addr {
	for _, a := range addrs {
		if a.IPNet == nil || a.Scope != unix.RT_SCOPE_UNIVERSE || a.Flags&skip != 0 {
			continue
		}
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok {
			continue
		}
		ip = ip.Unmap()
		if isVIP(ip) || ip.IsLoopback() || ip.IsLinkLocalUnicast() {
			continue
		}
		return ip
	}
	return netip.Addr{}
}

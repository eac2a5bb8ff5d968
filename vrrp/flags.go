package vrrp

import (
	"errors"
	"flag"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Flags fills in the Config of one instance from command-line flags, with
// the names and meanings of vrrpd's command line:
//
//	-interface IF -vrid N -priority N -vip CIDR[,CIDR] [-vip-interface IF]
//	[-version 2|3] [-advert-int 1s] [-auth-pass PASS] [-nopreempt]
//	[-preempt-delay D] [-unicast-src IP] [-unicast-peer IP[,IP]]
//	[-mcast-group IP] [-track-interface IF[,IF]]
//	[-garp-repeat N] [-garp-delay D] [-garp-refresh D]
//
// Lists are comma separated. IPv6 VIPs make an IPv6 instance, VRRPv3
// unless -version says otherwise (and 2 is refused for IPv6); -advert-int
// takes centiseconds with -version 3 (10ms to 40.95s). Durations take Go syntax (1s, 500ms) or a
// bare number of seconds, as keepalived.conf writes them. -garp-delay 0
// means no second burst of gratuitous ARPs. A value that does not parse,
// or a priority or burst size outside 1-255, fails flag.FlagSet.Parse with
// a message naming the flag; the other checks are Config.Normalize's.
type Flags struct {
	cfg Config
}

// NewFlags defines the flags on fs and returns the Flags they fill in.
func NewFlags(fs *flag.FlagSet) *Flags {
	f := &Flags{}
	c := &f.cfg
	fs.StringVar(&c.Interface, "interface", "", "interface for the advertisements (required)")
	fs.Func("vrid", "virtual router ID, 1-255 (required)", func(s string) error {
		n, err := strconv.ParseUint(s, 10, 8)
		if err != nil || n == 0 {
			return errors.New("must be 1-255")
		}
		c.VRID = uint8(n)
		return nil
	})
	fs.Func("priority", "priority, 1-255; 255 is the address owner (default 100)", func(s string) error {
		n, err := strconv.ParseUint(s, 10, 8)
		if err != nil || n == 0 {
			return errors.New("must be 1-255")
		}
		c.Priority = uint8(n)
		return nil
	})
	fs.Func("version", "VRRP version, 2 or 3 (default 2 for IPv4 VIPs, 3 for IPv6)", func(s string) error {
		n, err := strconv.ParseUint(s, 10, 8)
		if err != nil || (n != Version2 && n != Version3) {
			return errors.New("must be 2 or 3")
		}
		c.Version = uint8(n)
		return nil
	})
	fs.Func("mcast-group", "multicast group of the adverts (default 224.0.0.18, ff02::12 for IPv6)", func(s string) (err error) {
		c.Group, err = netip.ParseAddr(s)
		if err != nil || !c.Group.IsMulticast() {
			return errors.New("not a multicast address")
		}
		return nil
	})
	fs.Func("vip", "virtual IPv4 or IPv6 addresses with prefix length, comma separated (required)", func(s string) (err error) {
		c.VIPs, err = ParseVIPs(s)
		return err
	})
	fs.StringVar(&c.VIPInterface, "vip-interface", "", "interface for the VIPs (default -interface)")
	fs.Func("advert-int", "advertisement interval: whole seconds, 1s-255s, for version 2; centiseconds, 10ms-40.95s, for version 3 (default 1s)", func(s string) error {
		d, err := parseSeconds(s)
		if err == nil && d <= 0 {
			err = errors.New("must be positive")
		}
		c.AdvertInterval = d
		return err
	})
	fs.StringVar(&c.AuthPass, "auth-pass", "", "simple password authentication, at most 8 bytes")
	fs.BoolVar(&c.NoPreempt, "nopreempt", false, "do not preempt a lower-priority master")
	fs.Func("preempt-delay", "delay before preempting a lower-priority master (default 0)", func(s string) (err error) {
		c.PreemptDelay, err = parseSeconds(s)
		return err
	})
	fs.Func("unicast-src", "source address of the adverts, unicast or multicast (default: the interface's)", func(s string) (err error) {
		c.UnicastSrc, err = netip.ParseAddr(s)
		if err != nil {
			return errors.New("not an IP address")
		}
		return nil
	})
	fs.Func("unicast-peer", "unicast mode: peer addresses, comma separated", func(s string) (err error) {
		c.UnicastPeers, err = ParsePeers(s)
		return err
	})
	fs.Func("track-interface", "interfaces whose failure means FAULT, comma separated", func(s string) error {
		c.TrackInterfaces = splitList(s)
		return nil
	})
	fs.Func("garp-repeat", "gratuitous ARPs per VIP in each burst, 1-255 (default 5)", func(s string) error {
		n, err := strconv.ParseUint(s, 10, 8)
		if err != nil || n == 0 {
			return errors.New("must be 1-255")
		}
		c.GARPRepeat = int(n)
		return nil
	})
	fs.Func("garp-delay", "delay of the second gratuitous ARP burst; 0: none (default 5s)", func(s string) error {
		d, err := parseSeconds(s)
		switch {
		case err != nil:
			return err
		case d < 0:
			return errors.New("negative")
		case d == 0:
			c.GARPDelay = -1
		default:
			c.GARPDelay = d
		}
		return nil
	})
	fs.Func("garp-refresh", "period of gratuitous ARP refresh while MASTER; 0: none (default 0)", func(s string) (err error) {
		c.GARPRefresh, err = parseSeconds(s)
		return err
	})
	return f
}

// Config returns the configuration the flags describe, normalized. A
// missing or invalid value is a *FieldError; FlagName names its flag.
func (f *Flags) Config() (Config, error) {
	return f.cfg.Normalize()
}

var flagNames = map[string]string{
	"Interface":       "-interface",
	"VRID":            "-vrid",
	"Priority":        "-priority",
	"VIPs":            "-vip",
	"VIPInterface":    "-vip-interface",
	"AdvertInterval":  "-advert-int",
	"Version":         "-version",
	"Group":           "-mcast-group",
	"AuthPass":        "-auth-pass",
	"PreemptDelay":    "-preempt-delay",
	"UnicastSrc":      "-unicast-src",
	"UnicastPeers":    "-unicast-peer",
	"TrackInterfaces": "-track-interface",
	"GARPRepeat":      "-garp-repeat",
	"GARPDelay":       "-garp-delay",
	"GARPRefresh":     "-garp-refresh",
}

// FlagName returns the flag that Flags defines for a Config field, as a
// FieldError names it ("VIPs" gives "-vip"), or "" for a field without
// one.
func FlagName(field string) string { return flagNames[field] }

// ParseVIPs parses a comma-separated list of IPv4 or IPv6 addresses with
// their prefix length, such as "192.168.0.100/24,192.168.0.101/24" or
// "fd00::100/64". It returns a *FieldError naming VIPs and the first bad
// element; Config.Normalize checks that the families agree.
func ParseVIPs(s string) ([]netip.Prefix, error) {
	var vips []netip.Prefix
	for _, e := range splitList(s) {
		p, err := netip.ParsePrefix(e)
		if err != nil || p.Addr().Zone() != "" {
			return nil, &FieldError{Field: "VIPs", Value: strconv.Quote(e), Msg: "not an IP address with prefix length (such as 192.168.0.100/24 or fd00::100/64)"}
		}
		vips = append(vips, p)
	}
	return vips, nil
}

// ParsePeers parses a comma-separated list of unicast IPv4 or IPv6
// addresses, such as "172.16.0.2,172.16.0.3" or "fe80::2". It returns a
// *FieldError naming UnicastPeers and the first bad element.
func ParsePeers(s string) ([]netip.Addr, error) {
	var peers []netip.Addr
	for _, e := range splitList(s) {
		a, err := netip.ParseAddr(e)
		if err != nil || a.IsMulticast() || a.IsUnspecified() || a.Zone() != "" {
			return nil, &FieldError{Field: "UnicastPeers", Value: strconv.Quote(e), Msg: "not a unicast IP address"}
		}
		peers = append(peers, a)
	}
	return peers, nil
}

// splitList splits a comma-separated list and trims its elements.
func splitList(s string) []string {
	var out []string
	for e := range strings.SplitSeq(s, ",") {
		out = append(out, strings.TrimSpace(e))
	}
	return out
}

// parseSeconds parses a duration in Go syntax or a bare number of seconds.
func parseSeconds(s string) (time.Duration, error) {
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(n) || math.Abs(n) > math.MaxInt64/float64(time.Second) {
			return 0, errors.New("number of seconds out of range")
		}
		return time.Duration(n * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, errors.New("not a duration (such as 1s or 500ms) or a number of seconds")
	}
	return d, nil
}

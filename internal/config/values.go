package config

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Value parsers shared by the YAML and keepalived.conf readers. Their
// errors name the value; the caller adds the position and directive.

func parseIntRange(s string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%q is not a number %d-%d", s, lo, hi)
	}
	return n, nil
}

// parseSeconds parses a number of seconds ("6", "1.5") or a Go duration
// ("1500ms"), between lo and hi inclusive.
func parseSeconds(s string, lo, hi time.Duration) (time.Duration, error) {
	d, err := secondsOrDuration(s)
	if err != nil || d < lo || d > hi {
		return 0, fmt.Errorf("%q is not a duration %s-%s (seconds or a value such as 1.5s)", s, fmtDur(lo), fmtDur(hi))
	}
	return d, nil
}

func secondsOrDuration(s string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > float64(maxDuration/time.Second) {
			return 0, errors.New("out of range")
		}
		return time.Duration(math.Round(f * float64(time.Second))), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, errors.New("bad duration")
	}
	return d, nil
}

// parseDecimalSeconds reads a number of seconds with at most six decimals
// ("1", "0.05"), between lo and hi inclusive, as keepalived reads its
// decimal values (read_decimal_unsigned_strvec): no units, no exponent.
func parseDecimalSeconds(s string, lo, hi time.Duration) (time.Duration, error) {
	whole, frac, _ := strings.Cut(s, ".")
	sec := func(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) }
	bad := fmt.Errorf("%q is not a number of seconds %s-%s", s, sec(lo), sec(hi))
	if whole == "" && frac == "" || len(frac) > 6 || strings.Trim(whole+frac, "0123456789") != "" {
		return 0, bad
	}
	f, err := strconv.ParseFloat(s, 64)
	d := time.Duration(math.Round(f*1e6)) * time.Microsecond
	if err != nil || d < lo || d > hi {
		return 0, bad
	}
	return d, nil
}

// parseWholeSeconds is parseSeconds for values that must be whole seconds
// (VRRPv2's advert interval).
func parseWholeSeconds(s string, lo, hi time.Duration) (time.Duration, error) {
	d, err := secondsOrDuration(s)
	if err != nil || d < lo || d > hi || d%time.Second != 0 {
		return 0, fmt.Errorf("%q is not a whole number of seconds %d-%d", s, lo/time.Second, hi/time.Second)
	}
	return d, nil
}

func fmtDur(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return d.String()
}

func parseAddr(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("%q is not an IP address", s)
	}
	return a.Unmap(), nil
}

func parsePort(s string) (uint16, error) {
	n, err := parseIntRange(s, 0, 65535)
	if err != nil {
		return 0, fmt.Errorf("%q is not a port 0-65535", s)
	}
	return uint16(n), nil
}

// parseAddrPort parses "IP:PORT", "[IPv6]:PORT".
func parseAddrPort(s string) (netip.AddrPort, error) {
	ap, err := netip.ParseAddrPort(s)
	if err != nil || ap.Addr().Zone() != "" {
		return netip.AddrPort{}, fmt.Errorf("%q is not an address:port", s)
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
}

// parseVIP parses the words of a virtual_ipaddress entry as
// keepalived.conf's virtual_ipaddress lines are read (parseAddrLine),
// returning the warnings keepalived would print; a line keepalived skips
// is an error here.
func parseVIP(words []string) (VirtualIP, []string, error) {
	if len(words) == 0 {
		return VirtualIP{}, nil, errors.New("missing address")
	}
	v, warnings, e := parseAddrLine(words, false)
	if e != nil {
		return v, nil, errors.New(e.msg)
	}
	return v, warnings, nil
}

// parseTrack parses a track_interface entry: IF [weight N [reverse]].
func parseTrack(words []string) (TrackInterface, error) {
	if len(words) == 0 {
		return TrackInterface{}, errors.New("missing interface")
	}
	t := TrackInterface{Name: words[0]}
	if !validIfName(t.Name) {
		return t, fmt.Errorf("%q is not an interface name", t.Name)
	}
	switch {
	case len(words) == 1:
	case (len(words) == 3 || len(words) == 4 && words[3] == "reverse") && words[1] == "weight":
		w, err := parseIntRange(words[2], -253, 253)
		if err != nil {
			return t, fmt.Errorf("weight %w", err)
		}
		t.Weight, t.Reverse = w, len(words) == 4
	default:
		return t, fmt.Errorf("%q: want IFNAME [weight N [reverse]]", strings.Join(words, " "))
	}
	return t, nil
}

// validIfName reports whether s can be a Linux interface name.
func validIfName(s string) bool {
	if s == "" || len(s) > 15 || s == "." || s == ".." {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r == '/' || r == ':' || r > '~' {
			return false
		}
	}
	return true
}

// splitCommand splits a script string as keepalived does: on blanks, with
// '…' and "…" quoting.
func splitCommand(s string) (Command, error) {
	var out Command
	var cur strings.Builder
	inWord := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote = r
			inWord = true
		case r == ' ' || r == '\t':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("%q: unterminated quote", s)
	}
	if inWord {
		out = append(out, cur.String())
	}
	if len(out) == 0 {
		return nil, errors.New("empty command")
	}
	return out, nil
}

// parseStatusCodes parses keepalived's status_code values: codes and
// MIN-MAX ranges, separated by blanks or commas.
func parseStatusCodes(words []string) ([]StatusRange, error) {
	var out []StatusRange
	for _, w := range words {
		for part := range strings.SplitSeq(w, ",") {
			if part == "" {
				continue
			}
			lo, hi, isRange := strings.Cut(part, "-")
			if !isRange {
				hi = lo
			}
			a, err1 := strconv.Atoi(lo)
			b, err2 := strconv.Atoi(hi)
			if err1 != nil || err2 != nil || a < 100 || b > 599 || a > b {
				return nil, fmt.Errorf("%q is not a status code or range within 100-599", part)
			}
			out = append(out, StatusRange{a, b})
		}
	}
	if len(out) == 0 {
		return nil, errors.New("missing status code")
	}
	return out, nil
}

// parseDigest checks an MD5 hex digest and lowercases it.
func parseDigest(s string) (string, error) {
	if len(s) != 32 {
		return "", fmt.Errorf("%q is not an MD5 digest (32 hex digits)", s)
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return "", fmt.Errorf("%q is not an MD5 digest (32 hex digits)", s)
		}
	}
	return strings.ToLower(s), nil
}

// parseGranularity parses persistence_granularity: a netmask (255.255.255.0)
// or a prefix length.
func parseGranularity(s string) (int, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 1 || n > 128 {
			return 0, fmt.Errorf("%q is not a prefix length 1-128", s)
		}
		return n, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return 0, fmt.Errorf("%q is not a netmask or prefix length", s)
	}
	b := a.As4()
	m := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	ones := 0
	for m&(1<<31) != 0 {
		ones++
		m <<= 1
	}
	if m != 0 || ones == 0 {
		return 0, fmt.Errorf("%q is not a contiguous netmask", s)
	}
	return ones, nil
}

// lbAlgos are the IPVS schedulers in the kernel.
var lbAlgos = map[string]bool{
	"rr": true, "wrr": true, "lc": true, "wlc": true, "lblc": true, "lblcr": true,
	"dh": true, "sh": true, "sed": true, "nq": true, "fo": true, "ovf": true,
	"mh": true, "twos": true,
}

func parseLBAlgo(s string) (string, error) {
	if !lbAlgos[s] {
		return "", fmt.Errorf("%q is not an IPVS scheduler (rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh, twos)", s)
	}
	return s, nil
}

func parseLBKind(s string) (LBKind, error) {
	switch k := LBKind(strings.ToUpper(s)); k {
	case LBKindNAT, LBKindDR, LBKindTUN:
		return k, nil
	}
	return "", fmt.Errorf("%q is not NAT, DR or TUN", s)
}

func parseProtocol(s string) (Protocol, error) {
	switch p := Protocol(strings.ToUpper(s)); p {
	case TCP, UDP, SCTP:
		return p, nil
	}
	return "", fmt.Errorf("%q is not TCP, UDP or SCTP", s)
}

func parseState(s string) (State, error) {
	switch st := State(strings.ToUpper(s)); st {
	case StateMaster, StateBackup:
		return st, nil
	}
	return "", fmt.Errorf("%q is not MASTER or BACKUP", s)
}

func parseAuthType(s string) (AuthType, error) {
	switch t := AuthType(strings.ToUpper(s)); t {
	case AuthPass, AuthAH:
		return t, nil
	}
	return "", fmt.Errorf("%q is not PASS or AH", s)
}

var dnsTypes = map[string]bool{"A": true, "NS": true, "CNAME": true, "SOA": true, "MX": true, "TXT": true, "AAAA": true}

func parseDNSType(s string) (string, error) {
	t := strings.ToUpper(s)
	if !dnsTypes[t] {
		return "", fmt.Errorf("%q is not a DNS type (A, NS, CNAME, SOA, MX, TXT, AAAA)", s)
	}
	return t, nil
}

func parseCheckKind(s string) (CheckKind, error) {
	switch k := CheckKind(strings.ToUpper(s)); k {
	case TCPCheck, HTTPGet, SSLGet, MiscCheck, DNSCheck, UDPCheck, SMTPCheck, PingCheck:
		return k, nil
	}
	return "", fmt.Errorf("%q is not a checker (TCP_CHECK, HTTP_GET, SSL_GET, MISC_CHECK, DNS_CHECK, UDP_CHECK, SMTP_CHECK, PING_CHECK)", s)
}

// parseSchedFlag reads a scheduler flag's name: flag-1..3 for any
// scheduler, sh-* and mh-* only for their scheduler. ok is false for a name
// that is no flag; err is set for a known flag of another scheduler.
func parseSchedFlag(name, sched string) (f SchedFlags, ok bool, err error) {
	for _, n := range schedFlagNames {
		if n.name != name {
			continue
		}
		if n.sched != "" && n.sched != sched {
			return 0, true, fmt.Errorf("%s applies to the %s scheduler only, not %s", name, n.sched, sched)
		}
		return n.flag, true, nil
	}
	return 0, false, nil
}

package ipvs

import (
	"bufio"
	"fmt"
	"io"
	"math/bits"
	"net/netip"
	"strconv"
	"strings"
)

// ParseError is a malformed line of ipvsadm rules.
type ParseError struct {
	Line  int    // 1-based line number
	Token string // the offending token, empty when the line lacks something
	Msg   string
}

func (e *ParseError) Error() string {
	if e.Token == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return fmt.Sprintf("line %d: %q: %s", e.Line, e.Token, e.Msg)
}

// ParseRules reads ipvsadm command lines, as ipvsadm -S writes them and
// ipvsadm -R reads them (-A -E -D -a -e -d -C -Z --set --start-daemon
// --stop-daemon, with or without a leading "ipvsadm"), and returns the
// operations they stand for, in order. Addresses and ports must be numeric.
// Empty lines and lines starting with '#' are skipped. On the first malformed
// line it returns a *ParseError and no operations.
func ParseRules(r io.Reader) ([]Op, error) {
	rules, err := ParseRuleLines(r)
	if err != nil {
		return nil, err
	}
	ops := make([]Op, len(rules))
	for i, rl := range rules {
		ops[i] = rl.Op
	}
	return ops, nil
}

// Rule is a parsed line of ipvsadm rules.
type Rule struct {
	Line int // 1-based line number
	Op   Op
}

// ParseRuleLines is ParseRules keeping the line number of each operation.
func ParseRuleLines(r io.Reader) ([]Rule, error) {
	var rules []Rule
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	line := 0
	for sc.Scan() {
		line++
		fields := strings.Fields(sc.Text())
		var toks []string
		for _, f := range fields {
			if strings.HasPrefix(f, "#") {
				break
			}
			if f == "ipvsadm" {
				continue
			}
			toks = append(toks, f)
		}
		if len(toks) == 0 {
			continue
		}
		op, err := parseRule(toks)
		if err != nil {
			err.Line = line
			return nil, err
		}
		rules = append(rules, Rule{Line: line, Op: op})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", line+1, err)
	}
	return rules, nil
}

// ParseRule parses one ipvsadm command line given as its arguments.
func ParseRule(args []string) (Op, error) {
	op, err := parseRule(args)
	if err != nil {
		return Op{}, err
	}
	return op, nil
}

type ruleOpt struct {
	name   string // long name without dashes
	short  byte
	hasArg bool
	optArg bool // argument optional (-p)
}

var ruleOpts = []ruleOpt{
	{"add-service", 'A', false, false},
	{"edit-service", 'E', false, false},
	{"delete-service", 'D', false, false},
	{"clear", 'C', false, false},
	{"zero", 'Z', false, false},
	{"add-server", 'a', false, false},
	{"edit-server", 'e', false, false},
	{"delete-server", 'd', false, false},
	{"set", 0, false, false},
	{"start-daemon", 0, true, false},
	{"stop-daemon", 0, true, false},
	{"tcp-service", 't', true, false},
	{"udp-service", 'u', true, false},
	{"sctp-service", 0, true, false},
	{"fwmark-service", 'f', true, false},
	{"scheduler", 's', true, false},
	{"persistent", 'p', true, true},
	{"netmask", 'M', true, false},
	{"real-server", 'r', true, false},
	{"masquerading", 'm', false, false},
	{"ipip", 'i', false, false},
	{"gatewaying", 'g', false, false},
	{"weight", 'w', true, false},
	{"u-threshold", 'x', true, false},
	{"l-threshold", 'y', true, false},
	{"mcast-interface", 0, true, false},
	{"syncid", 0, true, false},
	{"ipv6", '6', false, false},
	{"ops", 'o', false, false},
	{"pe", 0, true, false},
	{"sched-flags", 'b', true, false},
	{"mcast-group", 0, true, false},
	{"mcast-port", 0, true, false},
	{"mcast-ttl", 0, true, false},
	{"sync-maxlen", 0, true, false},
	{"tun-type", 0, true, false},
	{"tun-port", 0, true, false},
	{"tun-nocsum", 0, false, false},
	{"tun-csum", 0, false, false},
	{"tun-remcsum", 0, false, false},
	{"numeric", 'n', false, false},
}

var commandOpts = map[string]OpKind{
	"add-service": AddService, "edit-service": UpdateService, "delete-service": DeleteService,
	"clear": Flush, "zero": Zero, "add-server": AddDestination, "edit-server": UpdateDestination,
	"delete-server": DeleteDestination, "set": SetTimeouts, "start-daemon": StartDaemon, "stop-daemon": StopDaemon,
}

// allowed lists the options each command accepts (ipvsadm's table).
var allowed = map[OpKind]string{
	AddService:        " service scheduler persistent netmask ops pe sched-flags numeric ",
	UpdateService:     " service scheduler persistent netmask ops pe sched-flags numeric ",
	DeleteService:     " service numeric ",
	Flush:             " numeric ",
	Zero:              " service numeric ",
	AddDestination:    " service real-server forward weight u-threshold l-threshold tun-type tun-port tun-nocsum tun-csum tun-remcsum numeric ",
	UpdateDestination: " service real-server forward weight u-threshold l-threshold tun-type tun-port tun-nocsum tun-csum tun-remcsum numeric ",
	DeleteDestination: " service real-server numeric ",
	SetTimeouts:       " numeric ",
	StartDaemon:       " mcast-interface syncid mcast-group mcast-port mcast-ttl sync-maxlen numeric ",
	StopDaemon:        " syncid numeric ",
}

func lookupOpt(tok string) (ruleOpt, string, bool, error) {
	if strings.HasPrefix(tok, "--") {
		name, val, hasVal := strings.Cut(tok[2:], "=")
		for _, o := range ruleOpts {
			if o.name == name {
				return o, val, hasVal, nil
			}
		}
		return ruleOpt{}, "", false, fmt.Errorf("unknown option")
	}
	if len(tok) >= 2 && tok[0] == '-' {
		for _, o := range ruleOpts {
			if o.short != 0 && o.short == tok[1] {
				if len(tok) > 2 {
					if !o.hasArg {
						return ruleOpt{}, "", false, fmt.Errorf("unknown option (options must be separate)")
					}
					return o, tok[2:], true, nil
				}
				return o, "", false, nil
			}
		}
		return ruleOpt{}, "", false, fmt.Errorf("unknown option")
	}
	return ruleOpt{}, "", false, fmt.Errorf("unexpected argument")
}

// ruleState collects one line.
type ruleState struct {
	op       Op
	cmdSet   bool
	seen     map[string]bool
	svcPort  bool
	dstPort  bool
	schedArg string
	schedTok string
	args     []string // positional arguments (--set)
}

func perr(tok, format string, a ...any) *ParseError {
	return &ParseError{Token: tok, Msg: fmt.Sprintf(format, a...)}
}

func parseRule(toks []string) (Op, *ParseError) {
	st := &ruleState{seen: map[string]bool{}}
	st.op.Destination.Weight = 1
	st.op.Destination.Forward = Route
	for i := 0; i < len(toks); i++ {
		tok := toks[i]
		o, val, hasVal, err := lookupOpt(tok)
		if err != nil {
			if st.op.Kind == SetTimeouts && !strings.HasPrefix(tok, "-") {
				st.args = append(st.args, tok)
				continue
			}
			return Op{}, perr(tok, "%v", err)
		}
		if o.hasArg && !hasVal {
			next := ""
			if i+1 < len(toks) {
				next = toks[i+1]
			}
			switch {
			case o.optArg && (next == "" || strings.HasPrefix(next, "-")):
				// -p without a value: the default timeout.
			case next == "":
				return Op{}, perr(tok, "missing value")
			default:
				val = next
				hasVal = true
				i++
			}
		}
		if kind, ok := commandOpts[o.name]; ok {
			if st.cmdSet {
				return Op{}, perr(tok, "multiple commands specified")
			}
			st.cmdSet = true
			st.op.Kind = kind
			if kind == StartDaemon || kind == StopDaemon {
				switch val {
				case "master":
					st.op.Daemon.State = DaemonMaster
				case "backup":
					st.op.Daemon.State = DaemonBackup
				default:
					return Op{}, perr(val, "sync daemon state must be master or backup")
				}
			}
			continue
		}
		if !st.cmdSet {
			return Op{}, perr(tok, "an option before the command (-A, -a, ...)")
		}
		if err := st.option(o, tok, val, hasVal); err != nil {
			return Op{}, err
		}
	}
	if !st.cmdSet {
		return Op{}, perr("", "no command")
	}
	return st.finish(toks)
}

func (st *ruleState) option(o ruleOpt, tok, val string, hasVal bool) *ParseError {
	group := o.name
	switch o.name {
	case "tcp-service", "udp-service", "sctp-service", "fwmark-service":
		group = "service"
	case "masquerading", "ipip", "gatewaying":
		group = "forward"
	}
	if group != "ipv6" && !strings.Contains(allowed[st.op.Kind], " "+group+" ") {
		return perr(tok, "not allowed with the %s command", st.op.Kind)
	}
	if st.seen[group] && group != "ipv6" {
		return perr(tok, "multiple %s options specified", group)
	}
	st.seen[group] = true
	s := &st.op.Service
	d := &st.op.Destination
	var err *ParseError
	switch o.name {
	case "tcp-service", "udp-service", "sctp-service":
		s.Protocol = map[string]Protocol{"tcp-service": TCP, "udp-service": UDP, "sctp-service": SCTP}[o.name]
		var a netip.Addr
		a, s.Port, st.svcPort, err = parseAddrPort(val)
		s.Address = a
		s.Family = familyOf(a)
	case "fwmark-service":
		var n uint64
		n, err = parseUint(val, 1, 1<<32-1)
		s.FWMark = uint32(n)
		s.Family = IPv4
	case "ipv6":
		if s.FWMark == 0 {
			return perr(tok, "-6 used before -f")
		}
		s.Family = IPv6
	case "scheduler":
		if val == "" || len(val) > maxSchedName {
			return perr(val, "scheduler name must be 1..%d bytes", maxSchedName)
		}
		s.Scheduler = val
	case "persistent":
		s.Flags |= FlagPersistent
		s.Timeout = 300
		if hasVal {
			var n uint64
			n, err = parseUint(val, 1, 86400*31)
			s.Timeout = uint32(n)
		}
	case "netmask":
		if s.Fam() == IPv6 && (s.FWMark != 0 || s.Address.IsValid()) {
			var n uint64
			n, err = parseUint(val, 1, 128)
			s.Netmask = int(n)
		} else {
			m, perr2 := netip.ParseAddr(val)
			if perr2 != nil || !m.Is4() {
				return perr(val, "netmask is not a dotted IPv4 mask")
			}
			b := m.As4()
			v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
			ones := bits.LeadingZeros32(^v)
			if ones == 0 || v<<ones != 0 {
				return perr(val, "netmask must be a contiguous mask of at least one bit")
			}
			s.Netmask = ones
		}
	case "real-server":
		var a netip.Addr
		a, d.Port, st.dstPort, err = parseAddrPort(val)
		d.Address = a
		d.Family = familyOf(a)
	case "masquerading":
		d.Forward = Masquerade
	case "ipip":
		d.Forward = Tunnel
	case "gatewaying":
		d.Forward = Route
	case "weight":
		var n uint64
		n, err = parseUint(val, 0, 65535)
		d.Weight = uint32(n)
	case "u-threshold", "l-threshold":
		var n uint64
		n, err = parseUint(val, 0, 1<<31-1)
		if o.name == "u-threshold" {
			d.UpperThreshold = uint32(n)
		} else {
			d.LowerThreshold = uint32(n)
		}
	case "mcast-interface":
		if val == "" || len(val) > maxIfName {
			return perr(val, "interface name must be 1..%d bytes", maxIfName)
		}
		st.op.Daemon.Interface = val
	case "syncid":
		var n uint64
		n, err = parseUint(val, 0, 255)
		st.op.Daemon.SyncID = uint32(n)
	case "mcast-group":
		g, e := netip.ParseAddr(val)
		if e != nil || !g.IsMulticast() {
			return perr(val, "not a multicast address")
		}
		st.op.Daemon.Group = g
	case "mcast-port":
		var n uint64
		n, err = parseUint(val, 1, 65535)
		st.op.Daemon.Port = uint16(n)
	case "mcast-ttl":
		var n uint64
		n, err = parseUint(val, 1, 255)
		st.op.Daemon.TTL = uint8(n)
	case "sync-maxlen":
		var n uint64
		n, err = parseUint(val, 1, 65535-20-8)
		st.op.Daemon.MaxLen = uint16(n)
	case "ops":
		s.Flags |= FlagOnePacket
	case "pe":
		if val == "" || len(val) > maxSchedName {
			return perr(val, "persistence engine name must be 1..%d bytes", maxSchedName)
		}
		s.PersistenceEngine = val
	case "sched-flags":
		st.schedArg, st.schedTok = val, val
	case "tun-type":
		switch val {
		case "ipip":
			d.TunnelType = TunnelIPIP
		case "gue":
			d.TunnelType = TunnelGUE
		case "gre":
			d.TunnelType = TunnelGRE
		default:
			return perr(val, "tunnel type must be ipip, gue or gre")
		}
	case "tun-port":
		var n uint64
		n, err = parseUint(val, 1, 65535)
		d.TunnelPort = uint16(n)
	case "tun-nocsum", "tun-csum", "tun-remcsum":
		if st.seen["tun-flags"] {
			return perr(tok, "conflicts with another tunnel checksum option")
		}
		st.seen["tun-flags"] = true
		d.TunnelFlags = map[string]TunnelFlags{"tun-nocsum": TunnelNoChecksum, "tun-csum": TunnelChecksum, "tun-remcsum": TunnelRemoteChecksum}[o.name]
	case "numeric":
	}
	if err != nil && err.Token == "" {
		err.Token = val
	}
	return err
}

func (st *ruleState) finish(toks []string) (Op, *ParseError) {
	op := &st.op
	s, d := &op.Service, &op.Destination
	needService := map[OpKind]bool{AddService: true, UpdateService: true, DeleteService: true, AddDestination: true, UpdateDestination: true, DeleteDestination: true}
	if needService[op.Kind] && !st.seen["service"] {
		return Op{}, perr("", "the %s command needs a service (-t, -u, --sctp-service or -f)", op.Kind)
	}
	switch op.Kind {
	case AddService, UpdateService:
		if s.Scheduler == "" {
			s.Scheduler = DefaultScheduler
		}
		if s.FWMark == 0 && s.Port == 0 && s.Flags&FlagPersistent == 0 {
			return Op{}, perr("", "zero port specified for a non-persistent service")
		}
		if s.Flags&FlagOnePacket != 0 && s.FWMark == 0 && s.Protocol != UDP {
			return Op{}, perr("-o", "one-packet scheduling is only for UDP services")
		}
		if st.schedArg != "" {
			f, err := parseSchedFlags(s.Scheduler, st.schedArg)
			if err != nil {
				return Op{}, err
			}
			s.Flags |= f
		}
	case AddDestination, UpdateDestination, DeleteDestination:
		if !st.seen["real-server"] {
			return Op{}, perr("", "the %s command needs a real server (-r)", op.Kind)
		}
		if !st.dstPort || (d.Port == 0 && s.FWMark == 0) {
			// Port 0 of a destination means the service's port here.
			d.Port = s.Port
		}
		if op.Kind == DeleteDestination {
			d.Forward = Route
			break
		}
		if s.FWMark == 0 && (d.Forward == Tunnel || d.Forward == Route) {
			d.Port = s.Port
		}
		if d.Fam() != s.Fam() && d.Forward != Tunnel {
			return Op{}, perr(d.Address.String(), "a different address family is allowed only for tunneling servers")
		}
		tunOpt := st.seen["tun-type"] || st.seen["tun-port"] || st.seen["tun-flags"]
		if tunOpt && d.Forward != Tunnel {
			return Op{}, perr("", "tunnel options conflict with the forwarding method")
		}
		switch d.TunnelType {
		case TunnelIPIP:
			if st.seen["tun-port"] || st.seen["tun-flags"] {
				return Op{}, perr("", "tunnel port and checksum options are illegal with the ipip tunnel type")
			}
		case TunnelGUE:
			if !st.seen["tun-port"] {
				return Op{}, perr("", "the gue tunnel type needs --tun-port")
			}
		case TunnelGRE:
			if st.seen["tun-port"] {
				return Op{}, perr("", "--tun-port is illegal with the gre tunnel type")
			}
			if d.TunnelFlags == TunnelRemoteChecksum {
				return Op{}, perr("--tun-remcsum", "illegal with the gre tunnel type")
			}
		}
	case SetTimeouts:
		if len(st.args) != 3 {
			return Op{}, perr("", "--set needs 3 timeout values (tcp tcpfin udp)")
		}
		var vals [3]uint32
		for i, a := range st.args {
			n, err := parseUint(a, 0, 86400*31)
			if err != nil {
				err.Token = a
				return Op{}, err
			}
			vals[i] = uint32(n)
		}
		op.Timeouts = Timeouts{TCP: vals[0], TCPFin: vals[1], UDP: vals[2]}
	case StartDaemon:
		if op.Daemon.Interface == "" {
			op.Daemon.Interface = "eth0"
		}
	}
	if op.Kind != SetTimeouts && len(st.args) > 0 {
		return Op{}, perr(st.args[0], "unexpected argument")
	}
	return *op, nil
}

func parseSchedFlags(sched, arg string) (ServiceFlags, *ParseError) {
	var f ServiceFlags
	for _, name := range strings.Split(arg, ",") {
		switch name {
		case "flag-1":
			f |= FlagSched1
		case "flag-2":
			f |= FlagSched2
		case "flag-3":
			f |= FlagSched3
		case "sh-fallback", "sh-port", "mh-fallback", "mh-port":
			if name[:2] != sched {
				return 0, perr(name, "incompatible scheduler flag for scheduler %s", sched)
			}
			if strings.HasSuffix(name, "fallback") {
				f |= FlagSched1
			} else {
				f |= FlagSched2
			}
		default:
			return 0, perr(name, "invalid scheduler flag")
		}
	}
	return f, nil
}

func parseUint(s string, lo, hi uint64) (uint64, *ParseError) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, perr(s, "want a number in %d..%d", lo, hi)
	}
	return n, nil
}

// parseAddrPort parses "a.b.c.d[:port]", "[v6]:port" or a bare IPv6
// address.
func parseAddrPort(s string) (netip.Addr, uint16, bool, *ParseError) {
	if a, err := netip.ParseAddr(s); err == nil && a.Is6() && a.Zone() == "" {
		return a, 0, false, nil
	}
	host, port, hasPort := s, "", false
	if strings.HasPrefix(s, "[") {
		end := strings.Index(s, "]:")
		if end < 0 {
			return netip.Addr{}, 0, false, perr(s, "IPv6 address must be written [address]:port")
		}
		host, port, hasPort = s[1:end], s[end+2:], true
	} else if i := strings.LastIndexByte(s, ':'); i >= 0 {
		host, port, hasPort = s[:i], s[i+1:], true
	}
	a, err := netip.ParseAddr(host)
	if err != nil || a.Zone() != "" || (strings.HasPrefix(s, "[") != a.Is6()) {
		return netip.Addr{}, 0, false, perr(s, "not a numeric address[:port]")
	}
	var p uint64
	if hasPort {
		var perr2 *ParseError
		p, perr2 = parseUint(port, 0, 65535)
		if perr2 != nil {
			return netip.Addr{}, 0, false, perr(s, "port %q is not a number in 0..65535", port)
		}
	}
	return a, uint16(p), hasPort, nil
}

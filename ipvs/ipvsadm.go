package ipvs

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
)

// This file renders tables as ipvsadm (1.31) prints them, numerically:
// ipvsadm -Ln and its variants, ipvsadm -Sn, --timeout and --daemon.

// ListFormat selects the variant of ipvsadm -Ln.
type ListFormat struct {
	Stats          bool // --stats
	Rate           bool // --rate
	Thresholds     bool // --thresholds
	PersistentConn bool // --persistent-conn
	TunInfo        bool // --tun-info
	Exact          bool // --exact: numbers without K/M/G/T
	NoSort         bool // --nosort: the kernel's order
}

// WriteList writes what ipvsadm -Ln (with the options of f) prints for
// the kernel state info and t.
func WriteList(w io.Writer, info Info, t *Table, f ListFormat) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "IP Virtual Server version %s (size=%d)\n", info.VersionString(), info.ConnTableSize)
	writeTitle(bw, f)
	for _, vs := range sortedTable(t, f.NoSort) {
		writeListService(bw, vs, f)
	}
	return bw.Flush()
}

// WriteRules writes what ipvsadm -Sn prints for t: one -A line per service
// followed by one -a line per destination.
func WriteRules(w io.Writer, t *Table) error {
	bw := bufio.NewWriter(w)
	for _, vs := range sortedTable(t, false) {
		name := ruleServiceName(vs.Service)
		bw.WriteString("-A " + name + serviceRuleOptions(vs.Service) + "\n")
		for _, d := range vs.Destinations {
			bw.WriteString(saveDestRule(name, vs.Service, d) + "\n")
		}
	}
	return bw.Flush()
}

// WriteTimeouts writes what ipvsadm -L --timeout prints.
func WriteTimeouts(w io.Writer, t Timeouts) error {
	_, err := fmt.Fprintf(w, "Timeout (tcp tcpfin udp): %d %d %d\n", t.TCP, t.TCPFin, t.UDP)
	return err
}

// WriteDaemons writes what ipvsadm -L --daemon prints.
func WriteDaemons(w io.Writer, ds []Daemon) error {
	bw := bufio.NewWriter(w)
	for _, st := range []DaemonState{DaemonMaster, DaemonBackup} {
		for _, d := range ds {
			if d.State != st {
				continue
			}
			fmt.Fprintf(bw, "%s sync daemon (mcast=%s, syncid=%d", st, d.Interface, d.SyncID)
			if d.MaxLen != 0 {
				fmt.Fprintf(bw, ", maxlen=%d", d.MaxLen)
			}
			if d.Group.IsValid() {
				fmt.Fprintf(bw, ", group=%s", d.Group)
			}
			if d.Port != 0 {
				fmt.Fprintf(bw, ", port=%d", d.Port)
			}
			if d.TTL != 0 {
				fmt.Fprintf(bw, ", ttl=%d", d.TTL)
			}
			bw.WriteString(")\n")
		}
	}
	return bw.Flush()
}

func writeTitle(w *bufio.Writer, f ListFormat) {
	const svcHead = "Prot LocalAddress:Port"
	switch {
	case f.Stats:
		fmt.Fprintf(w, "%-33s %8s %8s %8s %8s %8s\n  -> RemoteAddress:Port\n", svcHead, "Conns", "InPkts", "OutPkts", "InBytes", "OutBytes")
	case f.Rate:
		fmt.Fprintf(w, "%-33s %8s %8s %8s %8s %8s\n  -> RemoteAddress:Port\n", svcHead, "CPS", "InPPS", "OutPPS", "InBPS", "OutBPS")
	case f.Thresholds:
		fmt.Fprintf(w, "%-33s %-10s %-10s %-10s %-10s\n  -> RemoteAddress:Port\n", svcHead, "Uthreshold", "Lthreshold", "ActiveConn", "InActConn")
	case f.PersistentConn:
		fmt.Fprintf(w, "%-33s %-9s %-11s %-10s %-10s\n  -> RemoteAddress:Port\n", svcHead, "Weight", "PersistConn", "ActiveConn", "InActConn")
	case f.TunInfo:
		w.WriteString("Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n")
	default:
		w.WriteString("Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n")
	}
}

// hostPort formats an address and port as ipvsadm -n does.
func hostPort(a netip.Addr, port uint16) string {
	a = a.Unmap()
	if a.Is4() {
		return a.String() + ":" + strconv.Itoa(int(port))
	}
	return "[" + a.String() + "]:" + strconv.Itoa(int(port))
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func listServiceName(s Service) string {
	if s.FWMark != 0 {
		if s.Fam() == IPv6 {
			return fmt.Sprintf("FWM  %d IPv6", s.FWMark)
		}
		return fmt.Sprintf("FWM  %d", s.FWMark)
	}
	name := fmt.Sprintf("%-4s %s", protoName(s.Protocol), hostPort(s.Address, s.Port))
	if s.Fam() != IPv6 {
		name = truncate(name, 33)
	}
	return name
}

func protoName(p Protocol) string {
	switch p {
	case TCP, UDP, SCTP:
		return p.String()
	}
	return "?"
}

func ruleServiceName(s Service) string {
	if s.FWMark != 0 {
		if s.Fam() == IPv6 {
			return fmt.Sprintf("-f %d -6", s.FWMark)
		}
		return fmt.Sprintf("-f %d", s.FWMark)
	}
	opt := "--xxx-service"
	switch s.Protocol {
	case TCP:
		opt = "-t"
	case UDP:
		opt = "-u"
	case SCTP:
		opt = "--sctp-service"
	}
	return opt + " " + hostPort(s.Address, s.Port)
}

const schedFlagMask = FlagSched1 | FlagSched2 | FlagSched3

// schedFlags renders the scheduler flags as ipvsadm names them.
func schedFlags(s Service) string {
	var names []string
	switch s.Scheduler {
	case "sh", "mh":
		if s.Flags&FlagSched1 != 0 {
			names = append(names, s.Scheduler+"-fallback")
		}
		if s.Flags&FlagSched2 != 0 {
			names = append(names, s.Scheduler+"-port")
		}
	default:
		if s.Flags&FlagSched1 != 0 {
			names = append(names, "flag-1")
		}
		if s.Flags&FlagSched2 != 0 {
			names = append(names, "flag-2")
		}
		if s.Flags&FlagSched3 != 0 {
			names = append(names, "flag-3")
		}
	}
	return strings.Join(names, ",")
}

// ipv4Mask formats a prefix length as a dotted mask.
func ipv4Mask(bits int) string {
	b := binary.BigEndian.AppendUint32(nil, ^uint32(0)<<(32-bits))
	if bits == 0 {
		b = []byte{0, 0, 0, 0}
	}
	return netip.AddrFrom4([4]byte(b)).String()
}

// serviceRuleOptions renders the options of an -A line after the service.
func serviceRuleOptions(s Service) string {
	var b strings.Builder
	b.WriteString(" -s " + s.scheduler())
	if s.Flags&FlagPersistent != 0 {
		fmt.Fprintf(&b, " -p %d", s.Timeout)
		if bits := s.netmaskBits(); s.Fam() == IPv4 && bits != 32 {
			b.WriteString(" -M " + ipv4Mask(bits))
		} else if s.Fam() == IPv6 && bits != 128 {
			fmt.Fprintf(&b, " -M %d", bits)
		}
	}
	if s.PersistenceEngine != "" {
		b.WriteString(" --pe " + s.PersistenceEngine)
	}
	if s.Flags&FlagOnePacket != 0 {
		b.WriteString(" -o")
	}
	if s.Flags&schedFlagMask != 0 {
		b.WriteString(" -b " + schedFlags(s))
	}
	return b.String()
}

func writeListService(w *bufio.Writer, vs VirtualServer, f ListFormat) {
	s := vs.Service
	name := listServiceName(s)
	switch {
	case f.Stats:
		fmt.Fprintf(w, "%-33s", name)
		writeNums(w, f.Exact, s.Stats.Conns, s.Stats.InPackets, s.Stats.OutPackets, s.Stats.InBytes, s.Stats.OutBytes)
	case f.Rate:
		fmt.Fprintf(w, "%-33s", name)
		writeNums(w, f.Exact, s.Stats.CPS, s.Stats.InPPS, s.Stats.OutPPS, s.Stats.InBPS, s.Stats.OutBPS)
	default:
		w.WriteString(name + " " + s.Scheduler)
		if s.Flags&schedFlagMask != 0 {
			w.WriteString(" (" + schedFlags(s) + ")")
		}
		if s.Flags&FlagPersistent != 0 {
			fmt.Fprintf(w, " persistent %d", s.Timeout)
			if bits := s.netmaskBits(); s.Fam() == IPv4 && bits != 32 {
				w.WriteString(" mask " + ipv4Mask(bits))
			} else if s.Fam() == IPv6 && bits != 128 {
				fmt.Fprintf(w, " mask %d", bits)
			}
			if s.PersistenceEngine != "" {
				w.WriteString(" pe " + s.PersistenceEngine)
			}
		}
		if s.Flags&FlagOnePacket != 0 {
			w.WriteString(" ops")
		}
	}
	w.WriteString("\n")
	for _, d := range vs.Destinations {
		dname := hostPort(d.Address, d.Port)
		if d.Fam() != IPv6 {
			dname = truncate(dname, 28)
		}
		switch {
		case f.Stats:
			fmt.Fprintf(w, "  -> %-28s", dname)
			writeNums(w, f.Exact, d.Stats.Conns, d.Stats.InPackets, d.Stats.OutPackets, d.Stats.InBytes, d.Stats.OutBytes)
			w.WriteString("\n")
		case f.Rate:
			fmt.Fprintf(w, "  -> %-28s %8d %8d %8d", dname, d.Stats.CPS, d.Stats.InPPS, d.Stats.OutPPS)
			writeNums(w, f.Exact, d.Stats.InBPS, d.Stats.OutBPS)
			w.WriteString("\n")
		case f.Thresholds:
			fmt.Fprintf(w, "  -> %-28s %-10d %-10d %-10d %-10d\n", dname, d.UpperThreshold, d.LowerThreshold, d.ActiveConns, d.InactiveConns)
		case f.PersistentConn:
			fmt.Fprintf(w, "  -> %-28s %-9d %-11d %-10d %-10d\n", dname, d.Weight, d.PersistentConns, d.ActiveConns, d.InactiveConns)
		case f.TunInfo:
			ti := tunInfo(d)
			if ti == "" {
				ti = "n/a"
			}
			fmt.Fprintf(w, "  -> %-28s %-7s %-13s %-6d %-10d %-10d\n", dname, fwdName(d.Forward), ti, int32(d.Weight), d.ActiveConns, d.InactiveConns)
		default:
			fmt.Fprintf(w, "  -> %-28s %-7s %-6d %-10d %-10d\n", dname, fwdName(d.Forward), int32(d.Weight), d.ActiveConns, d.InactiveConns)
		}
	}
}

// fwdName is ipvsadm's column text ("(null)" is what glibc prints for the
// method ipvsadm has no name for).
func fwdName(m ForwardMethod) string {
	if m > Route {
		return "(null)"
	}
	return m.String()
}

func fwdSwitch(m ForwardMethod) string {
	switch m {
	case Masquerade:
		return "-m"
	case Tunnel:
		return "-i"
	case Local, Route:
		return "-g"
	}
	return "(null)"
}

var tunFlagShort = [...]string{"-c", "+c", "r+c"}
var tunFlagOpt = [...]string{"--tun-nocsum", "--tun-csum", "--tun-remcsum"}

func tunFlagIdx(f TunnelFlags) int {
	if int(f) < len(tunFlagOpt) {
		return int(f)
	}
	return 0
}

func tunInfo(d Destination) string {
	if d.Forward != Tunnel {
		return ""
	}
	switch d.TunnelType {
	case TunnelIPIP:
		return "ipip"
	case TunnelGUE:
		return truncate(fmt.Sprintf("gue:%d:%s", d.TunnelPort, tunFlagShort[tunFlagIdx(d.TunnelFlags)]), 15)
	case TunnelGRE:
		return "gre:" + tunFlagShort[tunFlagIdx(d.TunnelFlags)]
	}
	return ""
}

// saveDestRule renders an -a line as ipvsadm -S does (thresholds are not
// saved by ipvsadm).
func saveDestRule(svcName string, s Service, d Destination) string {
	base := fmt.Sprintf("-a %s -r %s %s -w %d", svcName, hostPort(d.Address, d.Port), fwdSwitch(d.Forward), int32(d.Weight))
	if d.Forward != Tunnel {
		return base
	}
	switch d.TunnelType {
	case TunnelGRE:
		return base + " --tun-type gre " + tunFlagOpt[tunFlagIdx(d.TunnelFlags)]
	case TunnelGUE:
		return base + fmt.Sprintf(" --tun-type gue --tun-port %d ", d.TunnelPort) + tunFlagOpt[tunFlagIdx(d.TunnelFlags)]
	case TunnelIPIP:
		return base + " --tun-type ipip"
	}
	return base
}

// writeNums prints counters as ipvsadm's print_largenum does.
func writeNums(w *bufio.Writer, exact bool, vs ...uint64) {
	for _, v := range vs {
		w.WriteString(largeNum(v, exact))
	}
}

func largeNum(i uint64, exact bool) string {
	if exact {
		s := strconv.FormatUint(i, 10)
		width := len(s) + 1
		if len(s) <= 8 {
			width = 9
		}
		return fmt.Sprintf("%*d", width, i)
	}
	switch {
	case i < 100000000:
		return fmt.Sprintf("%9d", i)
	case i < 1000000000:
		return fmt.Sprintf("%8dK", i/1000)
	case i < 100000000000:
		return fmt.Sprintf("%8dM", i/1000000)
	case i < 100000000000000:
		return fmt.Sprintf("%8dG", i/1000000000)
	}
	return fmt.Sprintf("%8dT", i/1000000000000)
}

// opRule renders an operation as an ipvsadm command line.
func opRule(o Op) string {
	s, d := o.Service, o.Destination
	switch o.Kind {
	case AddService:
		return "-A " + ruleServiceName(s) + serviceRuleOptions(s)
	case UpdateService:
		return "-E " + ruleServiceName(s) + serviceRuleOptions(s)
	case DeleteService:
		return "-D " + ruleServiceName(s)
	case AddDestination, UpdateDestination:
		cmd := "-a"
		if o.Kind == UpdateDestination {
			cmd = "-e"
		}
		r := fmt.Sprintf("%s %s -r %s %s -w %d", cmd, ruleServiceName(s), hostPort(d.Address, d.port(s)), fwdSwitch(d.Forward), d.Weight)
		if d.UpperThreshold != 0 {
			r += fmt.Sprintf(" -x %d", d.UpperThreshold)
		}
		if d.LowerThreshold != 0 {
			r += fmt.Sprintf(" -y %d", d.LowerThreshold)
		}
		if d.Forward == Tunnel {
			switch d.TunnelType {
			case TunnelGUE:
				r += fmt.Sprintf(" --tun-type gue --tun-port %d %s", d.TunnelPort, tunFlagOpt[tunFlagIdx(d.TunnelFlags)])
			case TunnelGRE:
				r += " --tun-type gre " + tunFlagOpt[tunFlagIdx(d.TunnelFlags)]
			}
		}
		return r
	case DeleteDestination:
		return fmt.Sprintf("-d %s -r %s", ruleServiceName(s), hostPort(d.Address, d.port(s)))
	case Flush:
		return "-C"
	case Zero:
		if o.allServices() {
			return "-Z"
		}
		return "-Z " + ruleServiceName(s)
	case SetTimeouts:
		return fmt.Sprintf("--set %d %d %d", o.Timeouts.TCP, o.Timeouts.TCPFin, o.Timeouts.UDP)
	case StartDaemon:
		dm := o.Daemon
		r := fmt.Sprintf("--start-daemon %s --mcast-interface %s --syncid %d", dm.State, dm.Interface, dm.SyncID)
		if dm.MaxLen != 0 {
			r += fmt.Sprintf(" --sync-maxlen %d", dm.MaxLen)
		}
		if dm.Group.IsValid() {
			r += " --mcast-group " + dm.Group.String()
		}
		if dm.Port != 0 {
			r += fmt.Sprintf(" --mcast-port %d", dm.Port)
		}
		if dm.TTL != 0 {
			r += fmt.Sprintf(" --mcast-ttl %d", dm.TTL)
		}
		return r
	case StopDaemon:
		return "--stop-daemon " + o.Daemon.State.String()
	}
	return o.Kind.String()
}

// sortedTable orders services and destinations as ipvsadm does (unless
// noSort), without changing t.
func sortedTable(t *Table, noSort bool) []VirtualServer {
	if t == nil {
		return nil
	}
	out := make([]VirtualServer, len(t.Services))
	copy(out, t.Services)
	if noSort {
		return out
	}
	glibcMergeSort(out, func(a, b VirtualServer) int { return cmpServices(a.Service, b.Service) })
	for i := range out {
		ds := make([]Destination, len(out[i].Destinations))
		copy(ds, out[i].Destinations)
		glibcMergeSort(ds, cmpDests)
		out[i].Destinations = ds
	}
	return out
}

// addrWords returns the address as ipvsadm's comparison sees it: the
// address stored in 16 bytes (an IPv4 address in the first 4), read as host
// order words; only the first word counts for the IPv4 family.
func addrWords(a netip.Addr, f Family) []uint32 {
	a = a.Unmap()
	var b [16]byte
	if a.Is4() {
		v4 := a.As4()
		copy(b[:], v4[:])
	} else if a.IsValid() {
		b = a.As16()
	}
	w := []uint32{binary.BigEndian.Uint32(b[0:]), binary.BigEndian.Uint32(b[4:]), binary.BigEndian.Uint32(b[8:]), binary.BigEndian.Uint32(b[12:])}
	if f != IPv6 {
		return w[:1]
	}
	return w
}

// cmpAddr reproduces ipvsadm's comparison, including its unsigned
// subtraction truncated to int.
func cmpAddr(a, b netip.Addr, f Family) int {
	wa, wb := addrWords(a, f), addrWords(b, f)
	for i := range wa {
		var y uint32
		if i < len(wb) {
			y = wb[i]
		}
		if r := int32(wa[i] - y); r != 0 {
			return int(r)
		}
	}
	return 0
}

func cmpServices(a, b Service) int {
	if r := int32(a.FWMark - b.FWMark); r != 0 {
		return int(r)
	}
	if r := int(a.Fam()) - int(b.Fam()); r != 0 {
		return r
	}
	if r := int(a.Protocol) - int(b.Protocol); r != 0 {
		return r
	}
	if r := cmpAddr(a.Address, b.Address, a.Fam()); r != 0 {
		return r
	}
	return int(a.Port) - int(b.Port)
}

func cmpDests(a, b Destination) int {
	if r := cmpAddr(a.Address, b.Address, a.Fam()); r != 0 {
		return r
	}
	return int(a.Port) - int(b.Port)
}

// glibcMergeSort sorts as glibc's qsort (a top-down merge sort) does, so that
// even ipvsadm's non-transitive comparison gives the same order.
func glibcMergeSort[T any](s []T, cmp func(a, b T) int) {
	if len(s) <= 1 {
		return
	}
	tmp := make([]T, len(s))
	msort(s, tmp, cmp)
}

func msort[T any](b, tmp []T, cmp func(a, b T) int) {
	n := len(b)
	if n <= 1 {
		return
	}
	n1 := n / 2
	b1, b2 := b[:n1], b[n1:]
	msort(b1, tmp, cmp)
	msort(b2, tmp, cmp)
	i, j, k := 0, 0, 0
	for i < len(b1) && j < len(b2) {
		if cmp(b1[i], b2[j]) <= 0 {
			tmp[k] = b1[i]
			i++
		} else {
			tmp[k] = b2[j]
			j++
		}
		k++
	}
	for i < len(b1) {
		tmp[k] = b1[i]
		i++
		k++
	}
	// The rest of b2 is already in place.
	copy(b, tmp[:k])
}

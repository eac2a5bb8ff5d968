package config

import (
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestParseKeepalivedSchedFlags reads the corpus file with the scheduler
// flags and ops: each flag as keepalived 2.2.7 sets it, and a warning
// with the line for each one keepalived ignores or clears.
func TestParseKeepalivedSchedFlags(t *testing.T) {
	c, err := Load("testdata/corpus/lvskit-sched-flags.conf")
	if err != nil {
		t.Fatal(err)
	}
	type flags struct {
		Key   string
		Sched SchedFlags
		OPS   bool
	}
	var got []flags
	for _, vs := range c.VirtualServers {
		got = append(got, flags{vs.Key(), vs.SchedFlags, vs.OnePacket})
	}
	want := []flags{
		{"TCP 10.20.0.1:80", SchedFlag1 | SchedFlag2, false}, // mh-fallback, mh-port
		{"UDP 10.20.0.1:53", SchedFlag2, true},               // sh-port, ops
		{"TCP 10.20.0.2:443", SchedFlag2, false},             // sh-fallback before lb_algo, flag-2, ops with TCP
		{"UDP 10.20.0.3:53", SchedFlag1 | SchedFlag3, false}, // flag-1, flag-3 with rr
		{"FWM 5", SchedFlag1, true},                          // mh-fallback, ops kept for fwmark
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("flags (-want +got):\n%s", diff)
	}
	wantWarn := []string{
		"49: sh-fallback: ignored: applies to the sh scheduler only, and no lb_algo comes before it, as keepalived ignores it",
		"52: hashed: accepted and ignored: keepalived 2.2.7 sets no flag for it (IPVS marks every service hashed itself)",
		"53: ops: one-packet scheduling requires UDP, not TCP: cleared, as keepalived clears it",
	}
	if diff := cmp.Diff(wantWarn, warnLines(c)); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	sum := c.Summary()
	for _, line := range []string{
		"  TCP 10.20.0.1:80 mh (mh-fallback,mh-port) DR, delay_loop 6s\n",
		"  UDP 10.20.0.1:53 sh (sh-port) DR, delay_loop 6s, one-packet scheduling (ops)\n",
		"  TCP 10.20.0.2:443 sh (sh-port) NAT, delay_loop 60s\n",
		"  UDP 10.20.0.3:53 rr (flag-1,flag-3) NAT, delay_loop 60s\n",
		"  FWM 5 mh (mh-fallback) DR, delay_loop 60s, one-packet scheduling (ops)\n",
	} {
		if !strings.Contains(sum, line) {
			t.Errorf("summary lacks %q:\n%s", line, sum)
		}
	}
}

func warnLines(c *Config) []string {
	var out []string
	for _, w := range c.Warnings {
		out = append(out, strconv.Itoa(w.Pos.Line)+": "+w.Directive+": "+w.Msg)
	}
	return out
}

// TestKeepalivedSchedFlagsOrder pins keepalived's reading of the sh and
// mh flags with the scheduler set above them (check_parser.c,
// lbflags_handler): a later lb_algo keeps the bits, a flag of the other
// of the two schedulers is ignored, flag-N is set whatever the scheduler;
// and ops in a group: cleared for TCP addresses, kept for fwmarks only.
func TestKeepalivedSchedFlagsOrder(t *testing.T) {
	for _, tc := range []struct {
		name  string
		body  string
		sched SchedFlags
		ops   bool
		warn  []string
	}{
		{"flag kept when the scheduler changes after it",
			"lb_algo sh\n  sh-port\n  lb_algo rr\n  protocol TCP\n", SchedFlag2, false, nil},
		{"mh flag with sh",
			"lb_algo sh\n  mh-port\n  protocol TCP\n", 0, false,
			[]string{"3: mh-port: ignored: mh-port applies to the mh scheduler only, not sh, as keepalived ignores it"}},
		{"sh flag with the default scheduler",
			"sh-port\n  protocol TCP\n", 0, false,
			[]string{"2: sh-port: ignored: applies to the sh scheduler only, and no lb_algo comes before it, as keepalived ignores it"}},
		{"flag-1 and flag-2 with rr",
			"lb_algo rr\n  flag-1\n  flag-2\n  protocol TCP\n", SchedFlag1 | SchedFlag2, false, nil},
		{"ops without protocol: UDP, as keepalived defaults to",
			"ops\n", 0, true,
			[]string{"1: virtual_server: no protocol set: UDP, as keepalived defaults to"}},
		{"ops with SCTP",
			"ops\n  protocol SCTP\n", 0, false,
			[]string{"2: ops: one-packet scheduling requires UDP, not SCTP: cleared, as keepalived clears it"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := "virtual_server 10.0.0.1 80 {\n  " + tc.body + "  real_server 10.0.1.1 80 {\n  }\n}\n"
			c, err := parseKeepalived("k.conf", []byte(src), mapFS{})
			if err != nil {
				t.Fatal(err)
			}
			vs := c.VirtualServers[0]
			if vs.SchedFlags != tc.sched || vs.OnePacket != tc.ops {
				t.Errorf("flags %v, ops %v; want %v, %v", vs.SchedFlags, vs.OnePacket, tc.sched, tc.ops)
			}
			if diff := cmp.Diff(tc.warn, warnLines(c)); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
	for _, tc := range []struct {
		name, entries string
		ops           bool
		warn          []string
	}{
		{"TCP addresses and a fwmark", "10.0.0.1 80\n  fwmark 3\n", false,
			[]string{"7: ops: one-packet scheduling requires UDP, not TCP: cleared for the whole group G, its fwmarks included, as keepalived clears it"}},
		{"fwmarks only", "fwmark 3\n", true, nil},
	} {
		t.Run("group with "+tc.name, func(t *testing.T) {
			src := "virtual_server_group G {\n  " + tc.entries + "}\nvirtual_server group G {\n  protocol TCP\n  ops\n  lb_kind NAT\n  real_server 10.0.1.1 80 {\n  }\n}\n"
			c, err := parseKeepalived("k.conf", []byte(src), mapFS{})
			if err != nil {
				t.Fatal(err)
			}
			if got := c.VirtualServers[0].OnePacket; got != tc.ops {
				t.Errorf("ops %v, want %v", got, tc.ops)
			}
			var got []string
			for _, w := range warnLines(c) {
				if strings.Contains(w, "ops") {
					got = append(got, w)
				}
			}
			if diff := cmp.Diff(tc.warn, got); diff != "" {
				t.Errorf("ops warnings (-want +got):\n%s", diff)
			}
		})
	}
}

// TestKeepalivedSchedFlagsInRealServer pins that the flag keywords are
// unknown in a real_server block, as keepalived warns ("Unknown
// keyword"), and change nothing.
func TestKeepalivedSchedFlagsInRealServer(t *testing.T) {
	src := "virtual_server 10.0.0.9 53 {\n  protocol UDP\n  real_server 10.0.1.1 53 {\n    ops\n    mh-port\n  }\n}\n"
	c, err := parseKeepalived("k.conf", []byte(src), mapFS{})
	if err != nil {
		t.Fatal(err)
	}
	if vs := c.VirtualServers[0]; vs.OnePacket || vs.SchedFlags != 0 {
		t.Errorf("flags %v, ops %v; want none", vs.SchedFlags, vs.OnePacket)
	}
	want := []string{
		"4: ops: ignored in real_server, as keepalived 2.2.7 ignores this unknown keyword",
		"5: mh-port: ignored in real_server, as keepalived 2.2.7 ignores this unknown keyword",
	}
	if diff := cmp.Diff(want, warnLines(c)); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

// TestKeepalivedSchedFlagsRefused pins that a flag keyword with an
// argument or a block is refused naming the file, line and keyword.
func TestKeepalivedSchedFlagsRefused(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{"ops yes\n", `k.conf:3: ops: takes no argument, got "yes"`},
		{"mh-port 1\n", `k.conf:3: mh-port: takes no argument, got "1"`},
		{"flag-3 {\n  }\n", `k.conf:3: flag-3: takes no block`},
		{"hashed on\n", `k.conf:3: hashed: takes no argument, got "on"`},
	} {
		src := "virtual_server 10.0.0.1 53 {\n  lb_algo mh\n  " + tc.body + "  protocol UDP\n  real_server 10.0.1.1 53 {\n  }\n}\n"
		c, err := parseKeepalived("k.conf", []byte(src), mapFS{})
		if err == nil || c != nil {
			t.Errorf("%q accepted", tc.body)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error\n%v\ndoes not contain\n%s", err, tc.want)
		}
	}
}

// TestValidateFlags pins the checks of a Config built in code: only the
// three scheduler flags, and one-packet scheduling for UDP addresses or
// fwmarks.
func TestValidateFlags(t *testing.T) {
	base := func() *Config {
		vs := NewVirtualServer()
		vs.Protocol = TCP
		vs.Addr = netip.MustParseAddrPort("10.0.0.1:80")
		vs.RealServers = []RealServer{NewRealServer(netip.MustParseAddrPort("10.0.1.1:80"))}
		return &Config{VirtualServers: []VirtualServer{vs}}
	}
	for _, tc := range []struct {
		name string
		set  func(vs *VirtualServer)
		want string
	}{
		{"all three flags", func(vs *VirtualServer) { vs.SchedFlags = SchedFlag1 | SchedFlag2 | SchedFlag3 }, ""},
		{"a fourth flag", func(vs *VirtualServer) { vs.SchedFlags = 8 }, "sched_flags: 0x8 is not a combination of flag-1, flag-2 and flag-3"},
		{"ops with TCP", func(vs *VirtualServer) { vs.OnePacket = true }, "ops: one-packet scheduling requires protocol UDP, not TCP"},
		{"ops with UDP", func(vs *VirtualServer) { vs.OnePacket, vs.Protocol = true, UDP }, ""},
		{"ops with a fwmark", func(vs *VirtualServer) { vs.OnePacket, vs.FWMark, vs.Addr = true, 3, netip.AddrPort{} }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			tc.set(&c.VirtualServers[0])
			err := Validate(c)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Validate: %v; want %q", err, tc.want)
			}
		})
	}
}

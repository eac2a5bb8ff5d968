package config

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// strictResult is what strict and accept mode leave in the instance and
// the global nftables settings.
type strictResult struct {
	Strict, NoAccept bool
	State            State
	Version          int
	Auth             bool
	PreemptDelay     time.Duration
	LowerRepeat      int
	LowerDelay       time.Duration
	LowerNoAdvert    bool
	NFT              NFTables
}

// wantStrict is an instance of priority 100 in strict mode with nothing
// else set, as keepalived 2.2.7 runs it: no accept mode, no gratuitous ARPs
// or advert on hearing a lower priority (its dump: "Accept = disabled",
// "Gratuitous ARP lower priority repeat = 0", "Send advert after receive
// lower priority advert = false").
var wantStrict = strictResult{Strict: true, NoAccept: true, State: StateBackup, LowerNoAdvert: true, NFT: NFTables{Priority: -1}}

// wantPlain is the same instance without strict mode.
var wantPlain = strictResult{State: StateBackup, LowerRepeat: 5, LowerDelay: 5 * time.Second, NFT: NFTables{Priority: -1}}

func with(r strictResult, f func(*strictResult)) strictResult {
	f(&r)
	return r
}

// Each case is a file keepalived 2.2.7 reads (`keepalived -t` and its
// dump with -d give what keepalived says), and how the reader takes it:
// the warnings (substrings, in order, every warning listed) or the error.
var strictCases = []struct {
	name       string
	global     string
	body       string
	keepalived string
	warnings   []string
	err        string
	want       strictResult
}{
	{name: "vrrp_strict defaults", global: "vrrp_strict", keepalived: "no message; Accept = disabled, lower priority repeat 0, delay 0, no advert",
		want: wantStrict},
	{name: "no strict mode", keepalived: "Accept = enabled", want: wantPlain},
	{name: "no_accept without strict mode", body: "no_accept", keepalived: "Accept = disabled; nftables table keepalived",
		want: with(wantPlain, func(r *strictResult) { r.NoAccept = true })},
	{name: "accept and no_accept: the last counts", body: "no_accept\naccept", keepalived: "Accept = enabled", want: wantPlain},
	{name: "no_accept with an argument", body: "no_accept 1", keepalived: "no message; Accept = disabled (the handler reads no argument)",
		warnings: []string{`k.conf:10: no_accept: "1" after it ignored`},
		want:     with(wantPlain, func(r *strictResult) { r.NoAccept = true })},
	{name: "vrrp_strict with an argument", global: "vrrp_strict 0", keepalived: "no message; VRRP strict mode = true",
		warnings: []string{`k.conf:2: vrrp_strict: "0" after it ignored`}, want: wantStrict},
	{name: "address owner accepts in strict mode", global: "vrrp_strict", body: "priority 255", keepalived: "Accept = enabled",
		want: with(wantStrict, func(r *strictResult) { r.NoAccept = false })},
	{name: "address owner with no_accept still accepts", body: "priority 255\nno_accept",
		keepalived: "Accept = disabled, but vrrp_handle_accept_mode adds no rule for the owner",
		want:       wantPlain},
	{name: "accept with VRRPv2 in strict mode", global: "vrrp_strict", body: "accept",
		keepalived: "(VI_1) warning - accept mode for VRRP version 2 does not comply with RFC3768 - resetting",
		warnings:   []string{"k.conf:4: vrrp_instance: (VI_1) warning - accept mode for VRRP version 2 does not comply with RFC3768 - resetting"},
		want:       wantStrict},
	{name: "accept with VRRPv3 in strict mode", global: "vrrp_strict", body: "version 3\naccept", keepalived: "Accept = enabled",
		want: with(wantStrict, func(r *strictResult) { r.NoAccept = false; r.Version = 3 })},
	{name: "strict_mode in the instance", body: "strict_mode", keepalived: "Enforcing strict VRRP compliance", want: wantStrict},
	{name: "strict_mode on", body: "strict_mode on", keepalived: "Enforcing strict VRRP compliance", want: wantStrict},
	{name: "strict_mode off beats vrrp_strict", global: "vrrp_strict", body: "strict_mode off", keepalived: "no strict compliance; Accept = enabled",
		want: wantPlain},
	{name: "strict_mode with a bad value", global: "vrrp_strict", body: "strict_mode maybe",
		keepalived: "(k.conf: Line 10) (VI_1) invalid strict_mode maybe specified; the global vrrp_strict applies",
		warnings:   []string{"k.conf:10: strict_mode: (VI_1) invalid strict_mode maybe specified"}, want: wantStrict},
	{name: "state MASTER without being owner", global: "vrrp_strict", body: "state MASTER\npriority 100",
		keepalived: "(VI_1) State MASTER must match being address owner; Wantstate = BACKUP",
		warnings:   []string{"k.conf:4: vrrp_instance: (VI_1) State MASTER must match being address owner: state BACKUP"},
		want:       wantStrict},
	{name: "state BACKUP as owner", global: "vrrp_strict", body: "state BACKUP\npriority 255",
		keepalived: "(VI_1) State MASTER must match being address owner; Wantstate = MASTER",
		warnings:   []string{"(VI_1) State MASTER must match being address owner: state MASTER"},
		want:       with(wantStrict, func(r *strictResult) { r.State = StateMaster; r.NoAccept = false })},
	{name: "state MASTER without priority is the owner", global: "vrrp_strict", body: "state MASTER", keepalived: "no message; priority 255",
		want: with(wantStrict, func(r *strictResult) { r.State = StateMaster; r.NoAccept = false })},
	{name: "authentication in strict mode", global: "vrrp_strict", body: "authentication {\nauth_type PASS\nauth_pass x\n}",
		keepalived: "(VI_1) Strict mode does not support authentication. Ignoring.",
		warnings:   []string{"(VI_1) Strict mode does not support authentication. Ignoring"}, want: wantStrict},
	{name: "preempt_delay in strict mode", global: "vrrp_strict", body: "preempt_delay 5",
		keepalived: "(VI_1) preempt_delay is incompatible with strict mode - resetting",
		warnings:   []string{"(VI_1) preempt_delay is incompatible with strict mode - resetting"}, want: wantStrict},
	{name: "lower-priority settings in strict mode", global: "vrrp_strict", body: "garp_lower_prio_repeat 2\ngarp_lower_prio_delay 3\nlower_prio_no_advert false",
		keepalived: "Strict mode requires no repeat garps / no repeat garp delay / no lower priority advert. resetting",
		warnings: []string{"(VI_1) Strict mode requires no repeat garps. resetting", "(VI_1) Strict mode requires no repeat garp delay. resetting",
			"(VI_1) Strict mode requires no lower priority advert. resetting"},
		want: wantStrict},
	{name: "lower-priority settings strict mode allows", body: "strict_mode\ngarp_lower_prio_repeat 0\nlower_prio_no_advert true",
		keepalived: "no message", want: wantStrict},
	{name: "global lower-priority settings do not apply in strict mode", global: "vrrp_strict\nvrrp_garp_lower_prio_repeat 3",
		keepalived: "no message; Gratuitous ARP lower priority repeat = 0", want: wantStrict},
	{name: "unicast in strict mode", global: "vrrp_strict", body: "unicast_peer {\n10.0.0.2\n}",
		keepalived: "no message: 2.2.7 tests for unicast before it sets the flag (vrrp.c), and runs it", want: wantStrict},
	{name: "vmac_xmit_base in strict mode", global: "vrrp_strict", body: "use_vmac\nvmac_xmit_base",
		keepalived: "(VI_1) xmit_base is incompatible with strict mode - resetting",
		warnings:   []string{"(VI_1) xmit_base is incompatible with strict mode - resetting"}, want: wantStrict},
	{name: "VMAC address in strict mode", global: "vrrp_strict", body: "use_vmac vrrp1 02:00:5e:00:01:01",
		keepalived: "(VI_1): cannot specify MAC address with strict mode - clearing",
		warnings:   []string{"(VI_1): cannot specify MAC address with strict mode - clearing"}, want: wantStrict},
	{name: "IPv6 with version 2 in strict mode", global: "vrrp_strict", body: "version 2\nvirtual_ipaddress {\nfe80::1\n}",
		keepalived: "(VI_1) cannot use IPv6 with VRRP version 2; setting version 3",
		warnings:   []string{"k.conf:4: vrrp_instance: (VI_1) cannot use IPv6 with VRRP version 2; setting version 3"},
		want:       with(wantStrict, func(r *strictResult) { r.Version = 3 }), err: ""},
	{name: "IPv6 first VIP not link-local in strict mode", global: "vrrp_strict", body: "virtual_ipaddress {\nfd00::1\n}",
		keepalived: "(VI_1) the first IPv6 VIP address must be link local; it runs the instance",
		warnings:   []string{"k.conf:4: vrrp_instance: (VI_1) the first IPv6 VIP address must be link local"}, want: wantStrict},
	{name: "nftables default name", global: "nftables", body: "no_accept", keepalived: "nftables table name = keepalived, priority -1",
		want: with(wantPlain, func(r *strictResult) { r.NoAccept = true; r.NFT.Table = "keepalived" })},
	{name: "nftables settings", global: "nftables lb\nnftables_priority 5\nnftables_counters\nnftables_ifindex", body: "no_accept",
		keepalived: "nftables table name = lb, priority 5, force use ifindex, with counters",
		want: with(wantPlain, func(r *strictResult) {
			r.NoAccept = true
			r.NFT = NFTables{Table: "lb", Priority: 5, Counters: true, Ifindex: true}
		})},
	{name: "nftables resets the priority", global: "nftables_priority 5\nnftables lb", keepalived: "nftables base chain priority = -1",
		want: with(wantPlain, func(r *strictResult) { r.NFT.Table = "lb" })},
	{name: "nftables twice", global: "nftables\nnftables lb", keepalived: "(Line 3) nftables already specified - ignoring",
		warnings: []string{"k.conf:3: nftables: nftables already specified - ignoring"},
		want:     with(wantPlain, func(r *strictResult) { r.NFT.Table = "keepalived" })},
	{name: "nftables_priority not a number", global: "nftables_priority x", keepalived: "(Line 2) invalid nftables chain priority 'x'",
		warnings: []string{"k.conf:2: nftables_priority: invalid nftables chain priority 'x'"}, want: wantPlain},
	{name: "vrrp_iptables", global: "vrrp_iptables", keepalived: "iptables not supported, using nftables instead. Please replace ...",
		warnings: []string{"k.conf:2: vrrp_iptables: iptables not supported, using nftables instead"},
		want:     with(wantPlain, func(r *strictResult) { r.NFT.Table = "keepalived" })},
	{name: "no VIP in strict mode", global: "vrrp_strict", body: "virtual_ipaddress {\n}",
		keepalived: "(VI_1) No VIP specified; at least one is required (the instance is refused)",
		err:        "k.conf:4: vrrp_instance: (VI_1) No VIP specified; at least one is required"},
}

// strictSrc is a file with global_defs global and one instance with body;
// with a one-line global_defs, the body starts at line 10.
func strictSrc(global, body string) string {
	src := "global_defs {\n" + global + "\n}\nvrrp_instance VI_1 {\n  interface eth1\n  virtual_router_id 7\n"
	if !strings.Contains(body, "virtual_ipaddress") {
		src += "  virtual_ipaddress {\n    10.0.0.1\n  }\n"
	}
	return src + body + "\n}\n"
}

func TestParseKeepalivedStrictMode(t *testing.T) {
	for _, tc := range strictCases {
		t.Run(tc.name, func(t *testing.T) {
			src := strictSrc(tc.global, tc.body)
			c, err := parseKeepalived("k.conf", []byte(src), mapFS{})
			if tc.err != "" {
				var es Errors
				if !errors.As(err, &es) {
					t.Fatalf("got %v; want the error %q", err, tc.err)
				}
				if !strings.HasPrefix(es[0].Error(), tc.err) {
					t.Errorf("first error:\n got %q\nwant %q...", es[0].Error(), tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("%v\n%s", err, src)
			}
			if len(c.Warnings) != len(tc.warnings) {
				t.Errorf("warnings %q, want %d: %q", c.Warnings, len(tc.warnings), tc.warnings)
			} else {
				for i, w := range tc.warnings {
					if !strings.Contains(c.Warnings[i].String(), w) {
						t.Errorf("warning %d: %q, want it to contain %q", i, c.Warnings[i].String(), w)
					}
				}
			}
			in := c.VRRP[0]
			got := strictResult{Strict: in.StrictMode, NoAccept: in.NoAccept, State: in.State, Version: in.Version, Auth: in.Auth != nil,
				PreemptDelay: in.PreemptDelay, LowerRepeat: in.GARPLowerPrioRepeat, LowerDelay: in.GARPLowerPrioDelay,
				LowerNoAdvert: in.LowerPrioNoAdvert, NFT: c.Global.NFTables}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
			if in.VMAC != nil && (in.VMAC.Addr != nil || in.VMAC.XmitBase) {
				t.Errorf("VMAC %+v: strict mode clears its address and xmit_base", in.VMAC)
			}
		})
	}
}

// A vrrp_strict read after an instance would change what the reader has
// already applied at the instance's end: refused, saying so.
func TestParseKeepalivedStrictAfterInstance(t *testing.T) {
	src := "vrrp_instance VI_1 {\n  interface eth1\n  virtual_router_id 7\n  state MASTER\n  priority 100\n  virtual_ipaddress {\n    10.0.0.1\n  }\n}\nglobal_defs {\n  vrrp_strict\n}\n"
	_, err := parseKeepalived("k.conf", []byte(src), mapFS{})
	if err == nil || !strings.Contains(err.Error(), "k.conf:1: vrrp_instance: (VI_1) not supported: vrrp_strict comes after the instance") {
		t.Errorf("err %v, want the refusal naming k.conf:1", err)
	}
}

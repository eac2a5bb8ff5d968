package config

import (
	"net"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// vmacInstance is an instance on eth1 with VRID 7 and body after its
// VIPs (line 7 on).
func vmacInstance(name, body string) string {
	return "vrrp_instance " + name + " {\n  interface eth1\n  virtual_router_id 7\n  virtual_ipaddress {\n    10.0.0.1\n  }\n" + body + "}\n"
}

func mac(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

// TestParseKeepalivedVMAC pins how use_vmac and vmac_xmit_base are read,
// as keepalived 2.2.7's vrrp_parser.c reads them: what it ignores is
// ignored with its warning at the line.
func TestParseKeepalivedVMAC(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		want     *VMAC
		warnings []string // "LINE: substring"
	}{
		{"none", "", nil, nil},
		{"default", "  use_vmac\n", &VMAC{}, nil},
		{"name", "  use_vmac vrrp77\n", &VMAC{Name: "vrrp77"}, nil},
		{"xmit base", "  use_vmac\n  vmac_xmit_base\n", &VMAC{XmitBase: true}, nil},
		{"xmit base first", "  vmac_xmit_base\n  use_vmac vm1\n", &VMAC{Name: "vm1", XmitBase: true}, nil},
		{"name and MAC", "  use_vmac vm1 02:11:22:33:44:55\n", &VMAC{Name: "vm1", Addr: mac("02:11:22:33:44:55")}, nil},
		{"MAC then name", "  use_vmac 2:1:22:a:B:5 vm1\n", &VMAC{Name: "vm1", Addr: mac("02:01:22:0a:0b:05")}, nil},
		{"five bytes take the VRID", "  use_vmac 02:11:22:33:44\n", &VMAC{Addr: mac("02:11:22:33:44:07")}, nil},
		{"five bytes and a colon", "  use_vmac 02:11:22:33:44:\n", &VMAC{Addr: mac("02:11:22:33:44:07")}, nil},
		{"name too long", "  use_vmac averyveryverylongname\n", &VMAC{},
			[]string{"7: VMAC interface name 'averyveryverylongname' too long or invalid characters - ignoring"}},
		{"name dot", "  use_vmac ..\n", &VMAC{}, []string{"7: VMAC interface name '..' too long"}},
		{"second name", "  use_vmac vm1\n  use_vmac vm2\n", &VMAC{Name: "vm1"}, []string{"8: VMAC interface name already specified"}},
		{"third word", "  use_vmac vm1 02:11:22:33:44:55 x\n", &VMAC{Name: "vm1", Addr: mac("02:11:22:33:44:55")},
			[]string{`7: "x" ignored: keepalived reads a name and a MAC address at most`}},
		{"MAC not hex", "  use_vmac 02:11:22:33:44:5g\n", &VMAC{}, []string{"7: VMAC invalid MAC address 02:11:22:33:44:5g"}},
		{"MAC three digits", "  use_vmac 02:11:22:333:44:55\n", &VMAC{}, []string{"7: VMAC invalid MAC address 02:11:22:333:44:55 - ignored"}},
		{"MAC four bytes", "  use_vmac 02:11:22:33\n", &VMAC{}, []string{"7: VMAC invalid MAC address 02:11:22:33 - ignored"}},
		{"MAC empty byte", "  use_vmac 02::22:33:44:55\n", &VMAC{}, []string{"7: VMAC invalid MAC address 02::22:33:44:55 - ignored"}},
		{"MAC multicast", "  use_vmac 01:00:5e:00:00:12\n", &VMAC{}, []string{"7: VMAC MAC address is multicast 01:00:5e:00:00:12 - ignoring"}},
		{"MAC of VRRP", "  use_vmac 00:00:5e:00:01:07\n", &VMAC{},
			[]string{"7: VMAC MAC address not allowed to be RFC5798 address (00:00:5e:00:01:07) - ignoring"}},
		{"MAC twice", "  use_vmac 02:11:22:33:44:55 02:11:22:33:44:66\n", &VMAC{Addr: mac("02:11:22:33:44:55")},
			[]string{"7: VMAC interface address already specified"}},
		{"xmit base without vmac", "  vmac_xmit_base\n", nil, []string{"7: (VI_1) vmac_xmit_base is only valid with a vmac"}},
		{"xmit base with words", "  use_vmac\n  vmac_xmit_base no\n", &VMAC{XmitBase: true},
			[]string{`8: "no" after it ignored: keepalived sets vmac_xmit_base whatever follows`}},
		{"unicast sets xmit base", "  use_vmac\n  unicast_peer {\n    10.0.0.9\n  }\n", &VMAC{XmitBase: true},
			[]string{"1: (VI_1) unicast with use_vmac requires vmac_xmit_base - setting"}},
		{"unicast with xmit base", "  use_vmac\n  vmac_xmit_base\n  unicast_src_ip 10.0.0.8\n  unicast_peer {\n    10.0.0.9\n  }\n", &VMAC{XmitBase: true}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseKeepalived("k.conf", []byte(vmacInstance("VI_1", tt.body)))
			if err != nil {
				t.Fatalf("ParseKeepalived: %v", err)
			}
			if diff := cmp.Diff(tt.want, c.VRRP[0].VMAC); diff != "" {
				t.Errorf("VMAC (-want +got):\n%s", diff)
			}
			var got []string
			for _, w := range c.Warnings {
				got = append(got, w.String())
			}
			for _, w := range tt.warnings {
				line, msg, _ := strings.Cut(w, ": ")
				found := false
				for _, g := range c.Warnings {
					found = found || (g.Pos.String() == "k.conf:"+line && strings.Contains(g.Msg, msg))
				}
				if !found {
					t.Errorf("no warning at line %s containing %q; warnings: %q", line, msg, got)
				}
			}
			// lbnode adds keepalived's nftables rules for the VMAC: no
			// warning says otherwise.
			if len(tt.warnings) == 0 {
				for _, g := range got {
					if strings.Contains(g, "VMAC") || strings.Contains(g, "vmac") || strings.Contains(g, "nftables") {
						t.Errorf("unexpected warning %q", g)
					}
				}
			}
		})
	}
}

// A name another instance already uses is ignored, as keepalived does.
func TestParseKeepalivedVMACNameInUse(t *testing.T) {
	src := vmacInstance("VI_1", "  use_vmac vm1\n") + strings.Replace(vmacInstance("VI_2", "  use_vmac vm1\n"), "virtual_router_id 7", "virtual_router_id 8", 1)
	c, err := ParseKeepalived("k.conf", []byte(src))
	if err != nil {
		t.Fatalf("ParseKeepalived: %v", err)
	}
	if c.VRRP[0].VMAC.Name != "vm1" || c.VRRP[1].VMAC == nil || c.VRRP[1].VMAC.Name != "" {
		t.Errorf("VMACs %+v and %+v, want vm1 and the default", c.VRRP[0].VMAC, c.VRRP[1].VMAC)
	}
	found := false
	for _, w := range c.Warnings {
		found = found || (w.Pos.Line == 15 && strings.Contains(w.Msg, "(VI_2) VRRP instance VI_1 is already using vm1 - ignoring name"))
	}
	if !found {
		t.Errorf("no warning at line 15 about vm1; warnings: %v", c.Warnings)
	}
}

// vmac_prefix names the VMACs; the first one counts.
func TestParseKeepalivedVMACPrefix(t *testing.T) {
	src := "global_defs {\n  vmac_prefix vm\n  vmac_prefix other\n}\n" + vmacInstance("VI_1", "  use_vmac\n")
	c, err := ParseKeepalived("k.conf", []byte(src))
	if err != nil {
		t.Fatalf("ParseKeepalived: %v", err)
	}
	if c.Global.VMACPrefix != "vm" {
		t.Errorf("VMACPrefix %q, want vm", c.Global.VMACPrefix)
	}
	found := false
	for _, w := range c.Warnings {
		found = found || (w.Pos.Line == 3 && strings.Contains(w.Msg, "vmac prefix has already been specified - ignoring other"))
	}
	if !found {
		t.Errorf("no warning at line 3; warnings: %v", c.Warnings)
	}
}

func TestSummaryVMAC(t *testing.T) {
	c, err := ParseKeepalived("k.conf", []byte(vmacInstance("VI_1", "  use_vmac\n")))
	if err != nil {
		t.Fatal(err)
	}
	s := c.Summary()
	for _, want := range []string{"vip 10.0.0.1/32 dev the VMAC", "use_vmac: macvlan vrrp.7 (or the next free name) on eth1, MAC 00:00:5e:00:01:07, adverts on the VMAC"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
}

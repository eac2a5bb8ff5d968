package vrrp

import (
	"errors"
	"net"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestVirtualMAC(t *testing.T) {
	tests := []struct {
		vrid uint8
		ipv6 bool
		want string
	}{
		{1, false, "00:00:5e:00:01:01"},
		{51, false, "00:00:5e:00:01:33"},
		{255, false, "00:00:5e:00:01:ff"},
		{51, true, "00:00:5e:00:02:33"},
	}
	for _, tt := range tests {
		if got := VirtualMAC(tt.vrid, tt.ipv6).String(); got != tt.want {
			t.Errorf("VirtualMAC(%d, %v) = %s, want %s", tt.vrid, tt.ipv6, got, tt.want)
		}
	}
}

// The names keepalived 2.2.7 tries (vrrp.c create_vmac_name).
func TestVMACNames(t *testing.T) {
	if diff := cmp.Diff([]string{"vrrp.51", "vrrp1.51", "vrrp2.51", "vrrp3.51"}, VMACNames("", 51, false, 4)); diff != "" {
		t.Errorf("IPv4 (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"vrrp.51", "vrrp6.51", "vrrp1.51", "vrrp2.51", "vrrp3.51", "vrrp4.51", "vrrp5.51", "vrrp7.51"}, VMACNames("vrrp", 51, true, 8)); diff != "" {
		t.Errorf("IPv6 (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"vmac.51", "vmac1.51"}, VMACNames("vmac", 51, false, 2)); diff != "" {
		t.Errorf("vmac_prefix vmac (-want +got):\n%s", diff)
	}
	// keepalived cuts a long prefix so that the name has 15 bytes.
	if diff := cmp.Diff([]string{"abcdefghijkl.51", "abcdefghijk1.51"}, VMACNames("abcdefghijkl", 51, false, 2)); diff != "" {
		t.Errorf("long prefix (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"abcdefghijk.251", "abcdefghij1.251"}, VMACNames("abcdefghijklmnop", 251, false, 2)); diff != "" {
		t.Errorf("longer prefix (-want +got):\n%s", diff)
	}
	if n := VMACNames("", 1, false, 0); len(n) != 0 {
		t.Errorf("VMACNames(\"\", 1, false, 0) = %q", n)
	}
}

func TestValidIfName(t *testing.T) {
	for name, want := range map[string]bool{
		"vrrp.51": true, "a": true, "fifteen-bytes-x": true, "sixteen-bytes-xx": false,
		"": false, ".": false, "..": false, "a/b": false, "a:b": false, "a b": false, "a\tb": false,
	} {
		if got := ValidIfName(name); got != want {
			t.Errorf("ValidIfName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestNormalizeVMAC(t *testing.T) {
	base := Config{Interface: "eth0", VRID: 51, VIPs: []netip.Prefix{netip.MustParsePrefix("192.168.0.100/24")}}
	tests := []struct {
		name    string
		edit    func(*Config)
		wantVIP string // VIPInterface
		wantADV string // advert interface
		wantErr string // field
	}{
		{"default name", func(c *Config) { c.VMAC = &VMAC{} }, "vrrp.51", "vrrp.51", ""},
		{"named", func(c *Config) { c.VMAC = &VMAC{Name: "vm51"} }, "vm51", "vm51", ""},
		{"xmit base", func(c *Config) { c.VMAC = &VMAC{XmitBase: true} }, "vrrp.51", "eth0", ""},
		{"VIPs on the base go on the VMAC", func(c *Config) { c.VMAC, c.VIPInterface = &VMAC{}, "eth0" }, "vrrp.51", "vrrp.51", ""},
		{"VIPs elsewhere stay", func(c *Config) { c.VMAC, c.VIPInterface = &VMAC{}, "eth1" }, "eth1", "vrrp.51", ""},
		{"no VMAC", func(c *Config) {}, "eth0", "eth0", ""},
		{"bad name", func(c *Config) { c.VMAC = &VMAC{Name: "a/b"} }, "", "", "VMAC.Name"},
		{"name of the interface", func(c *Config) { c.VMAC = &VMAC{Name: "eth0"} }, "", "", "VMAC.Name"},
		{"multicast MAC", func(c *Config) { c.VMAC = &VMAC{Addr: net.HardwareAddr{1, 0, 0x5e, 0, 0, 1}} }, "", "", "VMAC.Addr"},
		{"unicast without xmit base", func(c *Config) {
			c.VMAC, c.UnicastPeers = &VMAC{}, []netip.Addr{netip.MustParseAddr("192.168.0.12")}
		}, "", "", "VMAC.XmitBase"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base
			tt.edit(&c)
			n, err := c.Normalize()
			if tt.wantErr != "" {
				var fe *FieldError
				if !errors.As(err, &fe) || fe.Field != tt.wantErr {
					t.Fatalf("Normalize() = %v, want a FieldError on %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n.VIPInterface != tt.wantVIP || n.advertInterface() != tt.wantADV {
				t.Errorf("VIPInterface %q, adverts on %q; want %q, %q", n.VIPInterface, n.advertInterface(), tt.wantVIP, tt.wantADV)
			}
			if c.VMAC != nil && c.VMAC.Name == "" && n.VMAC.Name != "" && c.VMAC == n.VMAC {
				t.Errorf("Normalize changed the caller's VMAC")
			}
			again, err := n.Normalize()
			if err != nil || again.VIPInterface != n.VIPInterface || again.advertInterface() != n.advertInterface() {
				t.Errorf("Normalize is not idempotent: %v, %q, %q", err, again.VIPInterface, again.advertInterface())
			}
		})
	}
}

func TestVMACAddr(t *testing.T) {
	c := Config{VRID: 7, IPv6: true, VMAC: &VMAC{}}
	if got := c.vmacAddr().String(); got != "00:00:5e:00:02:07" {
		t.Errorf("IPv6 VMAC address %s", got)
	}
	c.VMAC.Addr = net.HardwareAddr{2, 0x11, 0x22, 0x33, 0x44, 0x55}
	if got := c.vmacAddr().String(); got != "02:11:22:33:44:55" {
		t.Errorf("configured VMAC address %s", got)
	}
	if got := eui64LinkLocal(net.HardwareAddr{0x52, 0x54, 0, 0x12, 0x34, 0x56}).String(); got != "fe80::5054:ff:fe12:3456" {
		t.Errorf("eui64LinkLocal = %s", got)
	}
}

package agent

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lvskit/lvskit/internal/config"
)

// Each instance with use_vmac gets keepalived's name and, unless its
// adverts stay on the base interface, a router of its own.
func TestVRRPConfigsVMAC(t *testing.T) {
	const src = `vrrp_instance A {
  interface eth1
  virtual_router_id 5
  use_vmac
  virtual_ipaddress {
    10.0.0.5/24
  }
}
vrrp_instance B {
  interface eth1
  virtual_router_id 5
  use_vmac
  virtual_ipaddress {
    fd00::5/64
  }
}
vrrp_instance C {
  interface eth1
  virtual_router_id 6
  use_vmac vrrp.5
  vmac_xmit_base
  virtual_ipaddress {
    10.0.0.6/24 dev eth0
  }
}
vrrp_instance D {
  interface eth1
  virtual_router_id 7
  virtual_ipaddress {
    10.0.0.7/24
  }
}
`
	cfg, err := config.ParseKeepalived("v.conf", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	// C names vrrp.5, so A takes the next IPv4 name and B the next IPv6
	// one, as keepalived names them.
	want := map[string]string{"A": "vrrp1.5", "B": "vrrp6.5", "C": "vrrp.5"}
	if diff := cmp.Diff(want, vmacNames(cfg)); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	vc, err := vrrpConfigs(cfg)
	if err != nil {
		t.Fatal(err)
	}
	type inst struct{ Name, VIPInterface, VMAC string }
	got := map[string][]inst{}
	for k, cs := range vc {
		for _, c := range cs {
			v := ""
			if c.VMAC != nil {
				v = c.VMAC.Name
				if c.VMAC.XmitBase {
					v += " xmit_base"
				}
			}
			got[k] = append(got[k], inst{c.Name, c.VIPInterface, v})
		}
	}
	wantRouters := map[string][]inst{
		"vrrp1.5": {{"A", "vrrp1.5", "vrrp1.5"}},
		"vrrp6.5": {{"B", "vrrp6.5", "vrrp6.5"}},
		// Adverts on eth1 with D; the VIP keeps its own dev.
		"eth1": {{"C", "eth0", "vrrp.5 xmit_base"}, {"D", "eth1", ""}},
	}
	if diff := cmp.Diff(wantRouters, got); diff != "" {
		t.Errorf("routers (-want +got):\n%s", diff)
	}
}

func TestVMACNamesPrefix(t *testing.T) {
	cfg, err := config.ParseKeepalived("v.conf", []byte(`global_defs {
  vmac_prefix vm
}
vrrp_instance A {
  interface eth1
  virtual_router_id 5
  use_vmac
  virtual_ipaddress {
    10.0.0.5/24
  }
}
`))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"A": "vm.5"}, vmacNames(cfg)); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
}

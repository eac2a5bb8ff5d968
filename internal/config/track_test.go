package config

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const trackConf = `vrrp_script chk_nginx {
  script "/usr/bin/pgrep -x nginx"
  interval 2
  timeout 3
  weight -20
  rise 2
  fall 3
  user nobody nogroup
}
vrrp_script chk_file {
  script /bin/true
  weight 10 reverse
  init_fail
}
vrrp_script chk_fault {
  script /bin/true
}
vrrp_instance VI_1 {
  interface eth1
  virtual_router_id 7
  priority 100
  virtual_ipaddress {
    10.0.0.1
  }
  track_interface {
    eth0 weight -30 reverse
    eth2
  }
  track_script {
    chk_nginx
    chk_file weight 5 noreverse
    chk_fault
  }
}
`

func TestParseKeepalivedTracking(t *testing.T) {
	c, err := parseKeepalived("k.conf", []byte(trackConf), mapFS{})
	if err != nil {
		t.Fatal(err)
	}
	at := func(line int) Pos { return Pos{File: "k.conf", Line: line} }
	wantScripts := []VRRPScript{
		{Pos: at(1), Name: "chk_nginx", Script: Command{"/usr/bin/pgrep", "-x", "nginx"}, Interval: 2 * time.Second, Timeout: 3 * time.Second,
			Weight: -20, Rise: 2, Fall: 3, User: "nobody", Group: "nogroup", UserPos: at(8)},
		{Pos: at(10), Name: "chk_file", Script: Command{"/bin/true"}, Interval: time.Second, Weight: 10, Reverse: true, Rise: 1, Fall: 1, InitFail: true},
		{Pos: at(15), Name: "chk_fault", Script: Command{"/bin/true"}, Interval: time.Second, Rise: 1, Fall: 1},
	}
	if diff := cmp.Diff(wantScripts, c.VRRPScripts, cmpOpts...); diff != "" {
		t.Errorf("vrrp_scripts (-want +got):\n%s", diff)
	}
	in := c.VRRP[0]
	wantTrack := []TrackScript{
		{Pos: at(30), Name: "chk_nginx", Weight: -20},
		{Pos: at(31), Name: "chk_file", Weight: 5},
		{Pos: at(32), Name: "chk_fault"},
	}
	if diff := cmp.Diff(wantTrack, in.TrackScripts); diff != "" {
		t.Errorf("track_script (-want +got):\n%s", diff)
	}
	wantIf := []TrackInterface{{Name: "eth0", Weight: -30, Reverse: true}, {Name: "eth2"}}
	if diff := cmp.Diff(wantIf, in.Track); diff != "" {
		t.Errorf("track_interface (-want +got):\n%s", diff)
	}
}

func TestParseKeepalivedTrackingErrors(t *testing.T) {
	script := "vrrp_script s {\n  script /bin/true\n}\n"
	inst := func(body string) string {
		return "vrrp_instance VI_1 {\n  interface eth1\n  virtual_router_id 7\n  virtual_ipaddress {\n    10.0.0.1\n  }\n" + body + "}\n"
	}
	tests := []struct {
		name, src, want string
	}{
		{"script after the instance", inst("  track_script {\n    s\n  }\n") + script, `k.conf:8: track_script: no vrrp_script "s" defined before this line (keepalived 2.2.7 ignores the line)`},
		{"tracked twice", script + inst("  track_script {\n    s\n    s weight 2\n  }\n"), "k.conf:12: track_script: s is tracked twice"},
		{"weight 254", script + inst("  track_script {\n    s weight 254\n  }\n"), `k.conf:11: track_script: s: weight "254" is not a number -253-253`},
		{"bad option", script + inst("  track_script {\n    s weigth 2\n  }\n"), `k.conf:11: track_script: "s weigth 2": want NAME [weight N [reverse|noreverse]]`},
		{"no script", "vrrp_script s {\n  interval 2\n}\n", "k.conf:1: vrrp_script: s: no script"},
		{"interval 0", "vrrp_script s {\n  script /bin/true\n  interval 0\n}\n", `k.conf:3: interval: "0" is not a whole number of seconds 1-86400`},
		{"rise 0", "vrrp_script s {\n  script /bin/true\n  rise 0\n}\n", `k.conf:3: rise: "0" is not a number 1-2147483647`},
		{"weight option", "vrrp_script s {\n  script /bin/true\n  weight 2 backwards\n}\n", `k.conf:3: weight: "2 backwards": want weight N [reverse|noreverse]`},
		{"keepalived keyword elsewhere", "vrrp_script s {\n  script /bin/true\n  lb_algo rr\n}\n", "k.conf:3: lb_algo: not supported in vrrp_script: keepalived 2.2.7 knows this keyword, and lbnode does not read it here"},
		{"defined twice", script + script, `k.conf:4: vrrp_script: "s" is defined twice (first at k.conf:1)`},
		{"track_interface bad reverse", inst("  track_interface {\n    eth0 weight 2 backwards\n  }\n"), `k.conf:8: track_interface: "eth0 weight 2 backwards": want IFNAME [weight N [reverse]]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseKeepalived("k.conf", []byte(tt.src), mapFS{})
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
			if !strings.HasPrefix(es[0].Error(), tt.want) {
				t.Errorf("first error:\n got %q\nwant %q...", es[0].Error(), tt.want)
			}
		})
	}
}

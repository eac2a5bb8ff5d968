package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// notify_fifo_script and vrrp_notify_fifo_script are read as keepalived
// reads them: a command line (quotes kept together), in either order with
// their FIFO, the first kept, and dropped with a warning without a FIFO.
func TestParseKeepalivedFIFOScript(t *testing.T) {
	src := `global_defs {
  notify_fifo_script "/usr/local/bin/reader --tag ka"
  notify_fifo /run/ka.fifo
  notify_fifo_script /bin/other
  vrrp_notify_fifo_script /bin/lonely
}
vrrp_instance VI_1 {
  interface eth1
  virtual_router_id 7
  virtual_ipaddress {
    10.0.0.1
  }
}
`
	c, err := parseKeepalived("k.conf", []byte(src), mapFS{})
	if err != nil {
		t.Fatal(err)
	}
	g := c.Global
	if diff := cmp.Diff(Command{"/usr/local/bin/reader", "--tag", "ka"}, g.NotifyFIFO.Script); diff != "" {
		t.Errorf("notify_fifo_script (-want +got):\n%s", diff)
	}
	if g.NotifyFIFO.Path != "/run/ka.fifo" || g.NotifyFIFO.ScriptPos.Line != 2 {
		t.Errorf("notify_fifo %q, script at line %d; want /run/ka.fifo, line 2", g.NotifyFIFO.Path, g.NotifyFIFO.ScriptPos.Line)
	}
	if len(g.VRRPNotifyFIFO.Script) != 0 {
		t.Errorf("vrrp_notify_fifo_script without its FIFO kept: %v", g.VRRPNotifyFIFO.Script)
	}
	var warns []string
	for _, w := range c.Warnings {
		warns = append(warns, w.String())
	}
	for _, want := range []string{
		`k.conf:4: notify_fifo_script: already specified at k.conf:2: "/bin/other" ignored`,
		"k.conf:5: vrrp_notify_fifo_script: ignored without vrrp_notify_fifo",
	} {
		if !containsPrefix(warns, want) {
			t.Errorf("no warning %q in:\n%s", want, strings.Join(warns, "\n"))
		}
	}
}

package config

import (
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/lvskit/lvskit/internal/testenv/netnstest"
)

// keepalived 2.2.7 and the reader report the same use_vmac and
// vmac_xmit_base problems in testdata/virtual_mac.conf: each of
// keepalived's messages is a warning of the reader, at the same line
// (keepalived reports what it completes at the end of a block at the
// closing brace, the reader at the block's first line).
func TestIntegrationVMACWarningsAgreeWithKeepalived(t *testing.T) {
	netnstest.RequirePrivileged(t, "keepalived", "ip")
	ns := netnstest.New(t)
	ns.Run(t, "ip", "link", "add", "eth1", "type", "veth", "peer", "name", "peth1")
	ns.Run(t, "ip", "link", "set", "eth1", "up")
	path, err := filepath.Abs("testdata/virtual_mac.conf")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := ns.Command("keepalived", "-t", "-l", "-n", "-f", path).CombinedOutput()
	re := regexp.MustCompile(`(?m)^(?:\(\S+: Line (\d+)\) )?(.*(?:VMAC|vmac|already using).*)$`)
	ms := re.FindAllStringSubmatch(string(out), -1)
	if len(ms) != 8 {
		t.Fatalf("keepalived reported %d VMAC problems, want 8:\n%s", len(ms), out)
	}
	for _, m := range ms {
		line, msg := m[1], strings.TrimSpace(m[2])
		found := false
		for _, w := range c.Warnings {
			if strings.Contains(w.Msg, msg) && (line == "" || strconv.Itoa(w.Pos.Line) == line || strings.Contains(msg, "requires vmac_xmit_base")) {
				found = true
			}
		}
		if !found {
			t.Errorf("keepalived: line %s: %q; no such warning from the reader: %v", line, msg, c.Warnings)
		}
	}
	t.Logf("%d of keepalived's VMAC messages matched", len(ms))
}

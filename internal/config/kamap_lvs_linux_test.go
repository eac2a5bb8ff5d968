package config

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/lvskit/lvskit/internal/testenv/netnstest"
)

// kaLineMessage is one of keepalived -t's messages about a line.
var kaLineMessage = regexp.MustCompile(`\(([^:()]+): Line (\d+)\) (.*)`)

// kaUnlined pairs keepalived's messages that name no line with the
// warning the reader gives for the same change.
var kaUnlined = []struct{ ka, ours string }{
	{"zero port only valid for persistent services - setting", "port 0 is valid only for persistent services"},
	{"no protocol set - defaulting to UDP", "no protocol set: UDP"},
	{"cannot use ha_suspend with fwmarks - clearing ha_suspend", "cannot be used with fwmarks: cleared"},
	{"has port specified - port will be ignored", "ignored by IPVS, as keepalived warns"},
	{"ports don't match", "does not match"},
}

// keepalived 2.2.7 is the oracle of the LVS reader's leniency: every line
// keepalived -t reports about (an unknown or deprecated keyword, a value
// out of range) carries a warning of the reader at that line, every
// keyword the reader ignores as unknown is one keepalived calls unknown,
// and what keepalived corrects after reading (port 0, missing protocol,
// ha_suspend with fwmarks) the reader also corrects, with a warning.
func TestIntegrationLVSWarningsAgreeWithKeepalived(t *testing.T) {
	netnstest.RequirePrivileged(t, "keepalived")
	ns := netnstest.New(t)
	path := filepath.Join(t.TempDir(), "lvs.conf")
	src := strings.ReplaceAll(lvsConf, "    TCP_CHECK {\n", "    TCP_CHECK {\n      net_mask 255.0.0.0\n")
	src = strings.Replace(src, "      url {\n", "      nb_get_retry 2\n      url {\n", 1)
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	ours := map[int][]string{}
	for _, w := range c.Warnings {
		ours[w.Pos.Line] = append(ours[w.Pos.Line], w.Directive+": "+w.Msg)
	}
	out, _ := ns.Command("keepalived", "-t", "-l", "-n", "-f", path).CombinedOutput()
	t.Logf("keepalived -t:\n%s", out)
	theirs := map[int][]string{}
	for _, m := range kaLineMessage.FindAllStringSubmatch(string(out), -1) {
		line, _ := strconv.Atoi(m[2])
		theirs[line] = append(theirs[line], m[3])
		if len(ours[line]) == 0 {
			t.Errorf("line %d: keepalived says %q, the reader says nothing", line, m[3])
		}
	}
	if len(theirs) < 5 {
		t.Fatalf("keepalived reported %d lines, want at least the 5 of the file's obsolete or misplaced keywords", len(theirs))
	}
	for line, ws := range ours {
		for _, w := range ws {
			if !strings.Contains(w, "ignores this unknown keyword") {
				continue
			}
			kw := strings.SplitN(w, ":", 2)[0]
			if !slicesContain(theirs[line], "Unknown keyword '"+kw+"'") {
				t.Errorf("line %d: the reader ignores %s as unknown, keepalived says %q", line, kw, theirs[line])
			}
		}
	}
	for _, u := range kaUnlined {
		ka := strings.Contains(string(out), u.ka)
		we := false
		for _, w := range c.Warnings {
			we = we || strings.Contains(w.Msg, u.ours)
		}
		if ka != we {
			t.Errorf("keepalived says %q: %v; the reader warns %q: %v", u.ka, ka, u.ours, we)
		}
	}
}

func slicesContain(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

package config

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lvskit/lvskit/internal/testenv/netnstest"
)

// keepalived's config-test messages that have a counterpart among the
// reader's warnings, and that counterpart's directive and message prefix.
var kaMessages = []struct {
	re        *regexp.Regexp // submatches: file, line, [keyword]
	directive string         // "" means the keyword submatch
	prefix    string
}{
	{regexp.MustCompile(`\(([^:()]+): Line (\d+)\) Unknown keyword '([^']+)'`), "", "ignored in MISC_CHECK"},
	{regexp.MustCompile(`\(([^:()]+): Line (\d+)\) Truncating auth_pass to 8 characters`), "auth_pass", "\""},
}

// keepalivedConfigTest runs `keepalived -t` on a file inside ns and
// returns its messages as "file:line: directive", with its whole output.
func keepalivedConfigTest(t *testing.T, ns *netnstest.NS, path string) ([]string, string) {
	t.Helper()
	out, err := ns.Command("keepalived", "-t", "-l", "-n", "-f", path).CombinedOutput()
	t.Logf("keepalived -t -f %s: %v\n%s", path, err, out)
	// keepalived -t exits with a non-zero code after warnings; it must
	// not die of a signal (it does so on configurations it cannot load).
	var ee *exec.ExitError
	if err != nil && (!errors.As(err, &ee) || ee.ExitCode() < 0) {
		t.Fatalf("keepalived -t did not run to completion: %v", err)
	}
	var msgs []string
	for _, k := range kaMessages {
		for _, m := range k.re.FindAllStringSubmatch(string(out), -1) {
			d := k.directive
			if d == "" {
				d = m[3]
			}
			msgs = append(msgs, m[1]+":"+m[2]+": "+d)
		}
	}
	return msgs, string(out)
}

// keepalived itself accepts the configurations this reader accepts, and
// what it reports as unknown keywords or truncated passwords is exactly
// what the reader lists as ignored or truncated.
func TestIntegrationKeepalivedAgreesWithReader(t *testing.T) {
	netnstest.RequirePrivileged(t, "keepalived", "ip")
	ns := netnstest.New(t)
	for _, ifname := range []string{"eth0", "eth1", "eth2"} {
		// This kernel has no dummy interfaces: a veth pair inside the
		// namespace does as well.
		ns.Run(t, "ip", "link", "add", ifname, "type", "veth", "peer", "name", "p"+ifname)
		ns.Run(t, "ip", "link", "set", ifname, "up")
	}
	dir := t.TempDir()
	every := filepath.Join(dir, "every.conf")
	files := map[string]string{every: everyDirectiveConf}
	paths := []string{every}
	for i, extra := range []string{
		"  state MASTER\n  nopreempt\n  preempt_delay 10\n",
		"  state MASTER\n  priority 150\n  nopreempt\n",
		"  priority 255\n  nopreempt\n",
		"  nopreempt\n  preempt\n",
		"  garp_lower_prio_repeat 3\n  garp_lower_prio_delay 2\n  lower_prio_no_advert\n",
		// A comment mark inside a word starts a comment: the password is
		// 1234567, not truncated 1234567!9abc.
		"  authentication {\n    auth_type PASS\n    auth_pass 1234567!9abc\n  }\n  notify \"/bin/echo a#b\"   # quoted\n",
	} {
		name := filepath.Join(dir, "case"+strconv.Itoa(i)+".conf")
		files[name] = strings.Replace(minimalVRRP, "  interface eth1\n", "  interface eth1\n"+extra, 1)
		paths = append(paths, name)
	}
	for name, src := range files {
		if err := os.WriteFile(name, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	article, err := filepath.Abs(articleConf)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range append([]string{article}, paths...) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			c, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			var ours []string
			for _, w := range c.Warnings {
				for _, k := range kaMessages {
					if strings.HasPrefix(w.Msg, k.prefix) && (k.directive == "" || k.directive == w.Directive) {
						ours = append(ours, w.Pos.File+":"+strconv.Itoa(w.Pos.Line)+": "+w.Directive)
					}
				}
			}
			theirs, out := keepalivedConfigTest(t, ns, path)
			slices.Sort(theirs)
			slices.Sort(ours)
			if !slices.Equal(theirs, ours) {
				t.Errorf("keepalived reports %q, the reader %q\n%s", theirs, ours, out)
			}
			// Both clear nopreempt and preempt_delay in the same cases.
			for _, k := range []struct{ ka, ours string }{
				{"nopreempt will not work with initial state MASTER - clearing", "nopreempt has no effect with state MASTER"},
				{"nopreempt is incompatible with priority 255. resetting nopreempt", "nopreempt has no effect with priority 255"},
				{"preempt delay will not work with initial state MASTER - clearing", "preempt_delay has no effect with state MASTER"},
			} {
				kaClears := strings.Contains(out, k.ka)
				weClear := false
				for _, w := range c.Warnings {
					weClear = weClear || strings.HasPrefix(w.Msg, k.ours)
				}
				if kaClears != weClear {
					t.Errorf("keepalived says %q: %v; the reader warns %q: %v", k.ka, kaClears, k.ours, weClear)
				}
			}
		})
	}
}

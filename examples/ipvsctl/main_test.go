package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lvskit/lvskit/ipvs"
	"github.com/lvskit/lvskit/ipvs/ipvstest"
)

// fake runs ipvsctl against one in-memory IPVS.
type fake struct {
	k *ipvstest.Kernel
}

func newFake() *fake { return &fake{k: ipvstest.New()} }

func (f *fake) run(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errb, func(netns string) (*ipvs.Client, error) {
		return ipvs.New(f.k.Conn(), nil)
	})
	return code, out.String(), errb.String()
}

func TestRestoreSaveRoundTrip(t *testing.T) {
	a := newFake()
	rules := ipvstest.Rules(30, 3)
	if code, _, errs := a.run(t, rules, "restore"); code != 0 {
		t.Fatalf("restore: exit %d: %s", code, errs)
	}
	if a.k.Writes() != strings.Count(rules, "\n") {
		t.Errorf("%d writes for %d lines", a.k.Writes(), strings.Count(rules, "\n"))
	}
	_, saved, _ := a.run(t, "", "save")
	if strings.Count(saved, "\n") != strings.Count(rules, "\n") {
		t.Errorf("save printed %d lines, want %d", strings.Count(saved, "\n"), strings.Count(rules, "\n"))
	}
	b := newFake()
	if code, _, errs := b.run(t, saved, "restore"); code != 0 {
		t.Fatalf("restore of saved: exit %d: %s", code, errs)
	}
	_, again, _ := b.run(t, "", "save")
	if diff := cmp.Diff(saved, again); diff != "" {
		t.Errorf("save after restore of save (-first +second):\n%s", diff)
	}
}

func TestRestoreMalformedAppliesNothing(t *testing.T) {
	f := newFake()
	input := "-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.1.0.1:80 -g -w 1\n-a -t 10.0.0.1:80 -r 10.1.0.2:80 -g -w heavy\n"
	code, _, errs := f.run(t, input, "restore")
	if code != 1 || !strings.Contains(errs, "line 3") || !strings.Contains(errs, `"heavy"`) || !strings.Contains(errs, "nothing applied") {
		t.Errorf("exit %d, stderr %q; want 1 and an error naming line 3 and \"heavy\"", code, errs)
	}
	if f.k.Writes() != 0 {
		t.Errorf("%d writes, want none", f.k.Writes())
	}
}

func TestRestoreReportsFailedLines(t *testing.T) {
	f := newFake()
	input := "-A -t 10.0.0.1:80 -s rr\n\n-A -t 10.0.0.1:80 -s wlc\n-a -t 10.0.0.9:80 -r 10.1.0.1:80\n-a -t 10.0.0.1:80 -r 10.1.0.1:80\n"
	code, _, errs := f.run(t, input, "restore")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, want := range []string{"line 3: ipvs add-service TCP 10.0.0.1:80: already exists", "line 4: ipvs add-destination TCP 10.0.0.9:80 -> 10.1.0.1:80: service not found", "2 of 4 operations failed"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr %q lacks %q", errs, want)
		}
	}
	if _, out, _ := f.run(t, "", "save"); out != "-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.1.0.1:80 -g -w 1\n" {
		t.Errorf("table after restore: %q", out)
	}
}

func TestApply(t *testing.T) {
	f := newFake()
	dir := t.TempDir()
	file := filepath.Join(dir, "lvs.rules")
	write := func(s string) {
		if err := os.WriteFile(file, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("# the article's service\n-A -t 192.168.0.100:80 -s wlc\n-a -t 192.168.0.100:80 -r 172.16.0.1:80 -g -w 1\n-a -t 192.168.0.100:80 -r 172.16.0.2:80 -g -w 1\n")
	code, out, errs := f.run(t, "", "apply", "-f", file, "-dry-run")
	if code != 0 || f.k.Writes() != 0 || !strings.Contains(out, "# dry run: 3 operations planned, none applied") {
		t.Errorf("dry run: exit %d, %d writes, out %q, err %q", code, f.k.Writes(), out, errs)
	}
	code, out, errs = f.run(t, "", "apply", "-f", file)
	want := "-A -t 192.168.0.100:80 -s wlc\n-a -t 192.168.0.100:80 -r 172.16.0.1:80 -g -w 1\n-a -t 192.168.0.100:80 -r 172.16.0.2:80 -g -w 1\n# 3 operations applied\n"
	if code != 0 || out != want {
		t.Errorf("apply: exit %d, stderr %q, out (-want +got):\n%s", code, errs, cmp.Diff(want, out))
	}
	if code, out, _ = f.run(t, "", "apply", "-f", file); code != 0 || out != "# 0 operations applied\n" || f.k.Writes() != 3 {
		t.Errorf("second apply: exit %d, out %q, %d writes; want no operation", code, out, f.k.Writes())
	}
	write("-A -t 192.168.0.100:80 -s wlc\n-a -t 192.168.0.100:80 -r 172.16.0.1:80 -g -w 1\n-a -t 192.168.0.100:80 -r 172.16.0.2:80 -g -w 0\n")
	if code, out, _ = f.run(t, "", "apply", "-f", file); code != 0 || out != "-e -t 192.168.0.100:80 -r 172.16.0.2:80 -g -w 0\n# 1 operations applied\n" || f.k.Writes() != 4 {
		t.Errorf("weight change: exit %d, out %q, %d writes", code, out, f.k.Writes())
	}

	for name, content := range map[string]string{
		"flush line":       "-C\n",
		"undeclared":       "-a -t 10.0.0.1:80 -r 10.1.0.1:80\n",
		"declared twice":   "-A -t 10.0.0.1:80\n-A -t 10.0.0.1:80\n",
		"malformed option": "-A -t 10.0.0.1:80 -q\n",
	} {
		write(content)
		code, _, errs := f.run(t, "", "apply", "-f", file)
		if code != 1 || !strings.Contains(errs, "line ") {
			t.Errorf("%s: exit %d, stderr %q; want 1 and a line number", name, code, errs)
		}
	}
}

func TestListTimeoutFlush(t *testing.T) {
	f := newFake()
	f.run(t, "-A -u 10.0.0.1:53 -s rr\n-a -u 10.0.0.1:53 -r 10.1.0.1:53 -m -w 2\n", "restore")
	_, out, _ := f.run(t, "", "list")
	want := "IP Virtual Server version 1.2.1 (size=4096)\n" +
		"Prot LocalAddress:Port Scheduler Flags\n" +
		"  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n" +
		"UDP  10.0.0.1:53 rr\n" +
		"  -> 10.1.0.1:53                  Masq    2      0          0         \n"
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("list (-want +got):\n%s", diff)
	}
	if code, _, _ := f.run(t, "", "timeout", "100", "0", "20"); code != 0 {
		t.Errorf("timeout set: exit %d", code)
	}
	if _, out, _ := f.run(t, "", "timeout"); out != "Timeout (tcp tcpfin udp): 100 120 20\n" {
		t.Errorf("timeout: %q", out)
	}
	if _, out, _ := f.run(t, "", "list", "-timeout"); out != "Timeout (tcp tcpfin udp): 100 120 20\n" {
		t.Errorf("list -timeout: %q", out)
	}
	if code, _, _ := f.run(t, "", "flush"); code != 0 {
		t.Errorf("flush: exit %d", code)
	}
	if _, out, _ := f.run(t, "", "save"); out != "" {
		t.Errorf("save after flush: %q", out)
	}
}

func TestUsage(t *testing.T) {
	f := newFake()
	for _, args := range [][]string{{}, {"frobnicate"}, {"list", "-timeout", "-daemon"}, {"apply"}, {"timeout", "1"}, {"timeout", "1", "2", "x"}, {"flush", "now"}} {
		if code, _, errs := f.run(t, "", args...); code != 2 || errs == "" {
			t.Errorf("ipvsctl %q: exit %d, stderr %q; want 2 and a message", args, code, errs)
		}
	}
}

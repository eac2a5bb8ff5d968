package ipvs_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lvskit/lvskit/ipvs"
	"github.com/lvskit/lvskit/ipvs/ipvstest"
	"golang.org/x/sys/unix"
)

func TestRestoreSave(t *testing.T) {
	c, k := newFake(t, &ipvs.Config{BatchSize: 16})
	rules := ipvstest.Rules(40, 3)
	if err := c.Restore(strings.NewReader(rules)); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	lines := strings.Count(rules, "\n")
	if k.Writes() != lines {
		t.Errorf("%d writes for %d lines", k.Writes(), lines)
	}
	var saved bytes.Buffer
	if err := c.Save(&saved); err != nil {
		t.Fatalf("Save: %v", err)
	}
	tab, err := c.Table()
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := ipvs.WriteRules(&want, tab); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want.String(), saved.String()); diff != "" {
		t.Errorf("Save differs from WriteRules of Table (-want +got):\n%s", diff)
	}
	if strings.Count(saved.String(), "\n") != lines {
		t.Errorf("Save wrote %d lines, want %d", strings.Count(saved.String(), "\n"), lines)
	}

	// The saved lines restore the same table elsewhere.
	c2, _ := newFake(t, nil)
	if err := c2.Restore(&saved); err != nil {
		t.Fatalf("Restore of the saved lines: %v", err)
	}
	var again bytes.Buffer
	if err := c2.Save(&again); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want.String(), again.String()); diff != "" {
		t.Errorf("save, restore, save (-first +second):\n%s", diff)
	}
}

func TestRestoreMalformedAppliesNothing(t *testing.T) {
	c, k := newFake(t, nil)
	input := "-A -t 10.0.0.1:80 -s rr\n# comment\n-a -t 10.0.0.1:80 -r 10.1.0.1:80 -g -w heavy\n"
	err := c.Restore(strings.NewReader(input))
	var pe *ipvs.ParseError
	if !errors.As(err, &pe) || pe.Line != 3 || pe.Token != "heavy" || !strings.Contains(err.Error(), "nothing applied") {
		t.Errorf("Restore: %v, want a *ParseError for line 3, token \"heavy\", saying nothing was applied", err)
	}
	if k.Writes() != 0 {
		t.Errorf("%d writes, want none", k.Writes())
	}
}

// TestRestoreNamesFailedLines: failures are reported with the lines they
// came from (blank and comment lines counted), and the other lines applied.
func TestRestoreNamesFailedLines(t *testing.T) {
	c, _ := newFake(t, &ipvs.Config{BatchSize: 2})
	input := "-A -t 10.0.0.1:80 -s rr\n\n# again\n-A -t 10.0.0.1:80 -s wlc\n-a -t 10.0.0.9:80 -r 10.1.0.1:80\n-a -t 10.0.0.1:80 -r 10.1.0.1:80\n"
	err := c.Restore(strings.NewReader(input))
	var re *ipvs.RestoreError
	if !errors.As(err, &re) {
		t.Fatalf("Restore: %v, want a *RestoreError", err)
	}
	var got []string
	for _, le := range re.Errors {
		got = append(got, le.Error())
	}
	want := []string{
		"line 4: ipvs add-service TCP 10.0.0.1:80: already exists (file exists)",
		"line 5: ipvs add-destination TCP 10.0.0.9:80 -> 10.1.0.1:80: service not found (no such process)",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("failed lines (-want +got):\n%s", diff)
	}
	if got, want := err.Error(), "ipvs restore: 2 of 4 operations failed"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, ipvs.ErrExists) || !errors.Is(err, ipvs.ErrServiceNotFound) || !errors.Is(err, unix.ESRCH) {
		t.Errorf("%v should match its failures' sentinels and errnos", err)
	}
	var saved bytes.Buffer
	if err := c.Save(&saved); err != nil {
		t.Fatal(err)
	}
	if got, want := saved.String(), "-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.1.0.1:80 -g -w 1\n"; got != want {
		t.Errorf("table after Restore: %q, want %q", got, want)
	}

	// A single failure is a RestoreError too.
	err = c.Restore(strings.NewReader("\n-a -t 10.0.0.1:80 -r 10.1.0.1:80\n"))
	if !errors.As(err, &re) || len(re.Errors) != 1 || re.Errors[0].Line != 2 || re.Operations != 1 || !errors.Is(err, ipvs.ErrExists) {
		t.Errorf("Restore of one existing destination: %v", err)
	}
}

func TestRestoreOnClosedClient(t *testing.T) {
	c, _ := newFake(t, nil)
	c.Close()
	err := c.Restore(strings.NewReader("-C\n"))
	var re *ipvs.RestoreError
	if err == nil || errors.As(err, &re) {
		t.Errorf("Restore on a closed client: %v, want the client's error, not a failed line", err)
	}
}

func TestList(t *testing.T) {
	c, _ := newFake(t, nil)
	if err := c.Restore(strings.NewReader("-A -u 10.0.0.1:53 -s rr\n-a -u 10.0.0.1:53 -r 10.1.0.1:53 -m -w 2\n")); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := c.List(&out, ipvs.ListFormat{}); err != nil {
		t.Fatalf("List: %v", err)
	}
	want := "IP Virtual Server version 1.2.1 (size=4096)\n" +
		"Prot LocalAddress:Port Scheduler Flags\n" +
		"  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n" +
		"UDP  10.0.0.1:53 rr\n" +
		"  -> 10.1.0.1:53                  Masq    2      0          0         \n"
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
}

func TestReadTable(t *testing.T) {
	input := "# desired\n-A -t 192.168.0.100:80 -s wlc\n-a -t 192.168.0.100:80 -r 172.16.0.1:80 -g -w 1\n" +
		"-A -f 7\n-a -t 192.168.0.100:80 -r 172.16.0.2:80 -m -w 3\n"
	got, err := ipvs.ReadTable(strings.NewReader(input))
	if err != nil {
		t.Fatalf("ReadTable: %v", err)
	}
	s1 := svc(ipvs.TCP, "192.168.0.100:80", "wlc")
	want := &ipvs.Table{Services: []ipvs.VirtualServer{
		{Service: s1, Destinations: []ipvs.Destination{dst("172.16.0.1:80", ipvs.Route, 1), dst("172.16.0.2:80", ipvs.Masquerade, 3)}},
		{Service: ipvs.Service{FWMark: 7}},
	}}
	// Compare as ipvsadm lines: the parser fills in defaults such as the
	// scheduler and the netmask.
	var g, w bytes.Buffer
	if err := ipvs.WriteRules(&g, got); err != nil {
		t.Fatal(err)
	}
	if err := ipvs.WriteRules(&w, want); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(w.String(), g.String()); diff != "" {
		t.Errorf("ReadTable (-want +got):\n%s", diff)
	}
	if len(got.Services) != 2 || len(got.Services[0].Destinations) != 2 {
		t.Errorf("ReadTable = %+v, want 2 services, the first with 2 destinations", got)
	}

	for _, c := range []struct{ name, input, want string }{
		{"other command", "-A -t 10.0.0.1:80\n-C\n", `line 2: "-C": a table holds only -A and -a lines`},
		{"update", "-E -t 10.0.0.1:80\n", `line 1: "-E -t 10.0.0.1:80 -s wlc": a table holds only -A and -a lines`},
		{"undeclared", "\n-a -t 10.0.0.1:80 -r 10.1.0.1:80\n", "line 2: destination for service TCP 10.0.0.1:80, which no earlier -A line declares"},
		{"declared twice", "-A -t 10.0.0.1:80\n-A -t 10.0.0.1:80 -s rr\n", "line 2: service TCP 10.0.0.1:80 declared twice"},
		{"malformed", "-A -t 10.0.0.1:80 -q\n", `line 1: "-q"`},
	} {
		_, err := ipvs.ReadTable(strings.NewReader(c.input))
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: ReadTable: %v, want an error starting %q", c.name, err, c.want)
		}
	}
}

// TestClientPlanWriteOps: Client.Plan reads the kernel's table and plans
// without writing; WriteOps prints the plan as lines Restore applies.
func TestClientPlanWriteOps(t *testing.T) {
	c, k := newFake(t, nil)
	if err := c.Restore(strings.NewReader("-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.1.0.1:80 -g -w 1\n-A -t 10.0.0.2:80 -s rr\n")); err != nil {
		t.Fatal(err)
	}
	desired, err := ipvs.ReadTable(strings.NewReader("-A -t 10.0.0.1:80 -s wlc\n-a -t 10.0.0.1:80 -r 10.1.0.1:80 -g -w 5\n-a -t 10.0.0.1:80 -r 10.1.0.2:80 -m -w 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	writes := k.Writes()
	ops, err := c.Plan(desired, &ipvs.PlanOptions{Prune: true})
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	if k.Writes() != writes {
		t.Errorf("Plan wrote %d times", k.Writes()-writes)
	}
	var plan bytes.Buffer
	if err := ipvs.WriteOps(&plan, ops); err != nil {
		t.Fatal(err)
	}
	want := "-D -t 10.0.0.2:80\n-E -t 10.0.0.1:80 -s wlc\n-e -t 10.0.0.1:80 -r 10.1.0.1:80 -g -w 5\n-a -t 10.0.0.1:80 -r 10.1.0.2:80 -m -w 1\n"
	if diff := cmp.Diff(want, plan.String()); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	if err := c.Restore(&plan); err != nil {
		t.Fatalf("Restore of the plan: %v", err)
	}
	if ops, err := c.Plan(desired, &ipvs.PlanOptions{Prune: true}); err != nil || len(ops) != 0 {
		t.Errorf("Plan after applying the plan: %v, %v; want nothing to do", ops, err)
	}
	var empty bytes.Buffer
	if err := ipvs.WriteOps(&empty, nil); err != nil || empty.Len() != 0 {
		t.Errorf("WriteOps(nil) wrote %q, %v", empty.String(), err)
	}
}

func TestParseTimeouts(t *testing.T) {
	got, err := ipvs.ParseTimeouts([]string{"900", "0", "300"})
	if want := (ipvs.Timeouts{TCP: 900, UDP: 300}); err != nil || got != want {
		t.Errorf("ParseTimeouts = %+v, %v; want %+v", got, err, want)
	}
	for _, args := range [][]string{nil, {"1", "2"}, {"1", "2", "3", "4"}, {"1", "x", "3"}, {"1", "2", "-3"}, {"1", "2", "99999999"}, {"1.5", "2", "3"}} {
		if got, err := ipvs.ParseTimeouts(args); err == nil {
			t.Errorf("ParseTimeouts(%q) = %+v, want an error", args, got)
		} else if !strings.HasPrefix(err.Error(), "ipvs: ") {
			t.Errorf("ParseTimeouts(%q): %q does not start with \"ipvs: \"", args, err)
		}
	}
	_, err = ipvs.ParseTimeouts([]string{"1", "x", "3"})
	if err == nil || !strings.Contains(err.Error(), `"x"`) {
		t.Errorf("ParseTimeouts with \"x\": %v, want the error to name it", err)
	}
}

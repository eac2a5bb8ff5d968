package netnstest

import (
	"context"
	"testing"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/topology"
)

// Proc is a program started by [NS.Start]. Its output is kept in memory.
type Proc struct {
	*topology.Proc
}

// Start runs name with args inside the namespace in the background. At
// cleanup the process, identified by its PID, gets SIGTERM and, if it has not
// exited within five seconds, SIGKILL. Its output is logged when the test
// fails.
func (ns *NS) Start(t testing.TB, name string, args ...string) *Proc {
	t.Helper()
	p, err := ns.NS.Start(name, args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Stop(5 * time.Second)
		if t.Failed() {
			t.Logf("output of %s (pid %d) in %s:\n%s", name, p.Pid(), ns.Name, p.Output())
		}
	})
	return &Proc{p}
}

// WaitOutput waits until the output contains substr, failing t after
// timeout or when the process exits without writing it.
func (p *Proc) WaitOutput(t testing.TB, substr string, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := p.Proc.WaitOutput(ctx, substr); err != nil {
		t.Fatalf("%v; output:\n%s", err, p.Output())
	}
}

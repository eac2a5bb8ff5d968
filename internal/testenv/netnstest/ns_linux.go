package netnstest

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/lvskit/lvskit/internal/testenv/topology"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// NS is a named network namespace that exists for the duration of a test.
type NS struct {
	*topology.NS
}

// New creates a fresh named network namespace with its loopback up. It is
// removed when the test ends, after the processes started in it are gone.
func New(t testing.TB) *NS {
	t.Helper()
	RequirePrivileged(t)
	ns, err := topology.NewNS("ns", false)
	if err != nil {
		t.Fatal(err)
	}
	cleanupNS(t, ns)
	return &NS{ns}
}

func cleanupNS(t testing.TB, ns *topology.NS) {
	t.Cleanup(func() {
		if err := ns.Close(); err != nil {
			t.Errorf("removing namespace: %v", err)
		}
	})
}

// Handle returns the namespace's handle. It belongs to ns: do not close it.
func (ns *NS) Handle() netns.NsHandle { return ns.NS.Handle() }

// Netlink returns an rtnetlink handle bound to the namespace, shared by all
// callers and closed at cleanup.
func (ns *NS) Netlink(t testing.TB) *netlink.Handle {
	t.Helper()
	h, err := ns.NS.Netlink()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// Command returns a command that runs name with args inside the namespace
// through `ip netns exec`.
func (ns *NS) Command(name string, args ...string) *exec.Cmd {
	return ns.NS.Command(name, args...)
}

// Run runs name with args inside the namespace to completion and returns
// its combined output. A non-zero exit fails t.
func (ns *NS) Run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := ns.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("in %s: %s %s: %v\n%s", ns.Name, name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

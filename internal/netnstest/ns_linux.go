package netnstest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// NS is a named network namespace that exists for the duration of a test.
type NS struct {
	// Name is the namespace's name under /run/netns, as `ip netns` shows it.
	Name string

	handle netns.NsHandle

	mu sync.Mutex
	nl *netlink.Handle
}

// New creates a fresh named network namespace with its loopback up. It is
// removed when the test ends, after the processes started in it are gone.
func New(t testing.TB) *NS {
	t.Helper()
	return newNS(t, "ns")
}

func newNS(t testing.TB, label string) *NS {
	t.Helper()
	RequirePrivileged(t)
	name := "lvskit-" + label + "-" + randomSuffix()
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", name, err, out)
	}
	h, err := netns.GetFromName(name)
	if err != nil {
		_ = exec.Command("ip", "netns", "del", name).Run()
		t.Fatalf("opening namespace %s: %v", name, err)
	}
	ns := &NS{Name: name, handle: h}
	t.Cleanup(func() {
		ns.mu.Lock()
		if ns.nl != nil {
			ns.nl.Close()
		}
		ns.mu.Unlock()
		h.Close()
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", name, err, out)
		}
	})
	lo, err := ns.Netlink(t).LinkByName("lo")
	if err != nil {
		t.Fatalf("namespace %s: finding lo: %v", name, err)
	}
	if err := ns.Netlink(t).LinkSetUp(lo); err != nil {
		t.Fatalf("namespace %s: setting lo up: %v", name, err)
	}
	return ns
}

func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Handle returns the namespace's handle. It belongs to ns: do not close it.
func (ns *NS) Handle() netns.NsHandle { return ns.handle }

// Netlink returns an rtnetlink handle bound to the namespace, shared by all
// callers and closed at cleanup.
func (ns *NS) Netlink(t testing.TB) *netlink.Handle {
	t.Helper()
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if ns.nl == nil {
		h, err := netlink.NewHandleAt(ns.handle)
		if err != nil {
			t.Fatalf("netlink handle in %s: %v", ns.Name, err)
		}
		ns.nl = h
	}
	return ns.nl
}

// Do runs fn on a locked OS thread that has entered the namespace. Sockets
// that fn opens belong to the namespace and stay there after Do returns.
// The calling goroutine's namespace is never changed.
func (ns *NS) Do(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// The thread is not unlocked on purpose: it dies with the goroutine
		// rather than going back to the pool inside a foreign namespace.
		if err := netns.Set(ns.handle); err != nil {
			errc <- fmt.Errorf("entering namespace %s: %w", ns.Name, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// Command returns a command that runs name with args inside the namespace
// through `ip netns exec`.
func (ns *NS) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", ns.Name, name}, args...)...)
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

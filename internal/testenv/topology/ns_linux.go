package topology

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"sync"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// NS is a named network namespace.
type NS struct {
	// Name is the namespace's name under /run/netns, as `ip netns` shows it.
	Name string

	handle netns.NsHandle

	mu     sync.Mutex
	nl     *netlink.Handle
	closed bool
}

// NewNS creates a named network namespace with its loopback up. With a
// non-empty label the name is "lvskit-LABEL-RANDOM"; with exact set, the name
// is label itself.
func NewNS(label string, exact bool) (*NS, error) {
	name := label
	if !exact {
		name = "lvskit-" + label + "-" + randomSuffix()
	}
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("ip netns add %s: %v: %s", name, err, out)
	}
	h, err := netns.GetFromName(name)
	if err != nil {
		_ = exec.Command("ip", "netns", "del", name).Run()
		return nil, fmt.Errorf("opening namespace %s: %w", name, err)
	}
	ns := &NS{Name: name, handle: h}
	nl, err := ns.Netlink()
	if err == nil {
		var lo netlink.Link
		if lo, err = nl.LinkByName("lo"); err == nil {
			err = nl.LinkSetUp(lo)
		}
	}
	if err != nil {
		ns.Close()
		return nil, fmt.Errorf("namespace %s: setting lo up: %w", name, err)
	}
	return ns, nil
}

func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Handle returns the namespace's handle. It belongs to ns: do not close it.
func (ns *NS) Handle() netns.NsHandle { return ns.handle }

// Netlink returns an rtnetlink handle bound to the namespace, shared by all
// callers and closed with ns.
func (ns *NS) Netlink() (*netlink.Handle, error) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if ns.closed {
		return nil, fmt.Errorf("namespace %s is closed", ns.Name)
	}
	if ns.nl == nil {
		h, err := netlink.NewHandleAt(ns.handle)
		if err != nil {
			return nil, fmt.Errorf("netlink handle in %s: %w", ns.Name, err)
		}
		ns.nl = h
	}
	return ns.nl, nil
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
// through `ip netns exec`, which execs the program: the command's PID is the
// program's.
func (ns *NS) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", ns.Name, name}, args...)...)
}

// Close removes the namespace. Processes still running inside keep it
// alive until they exit, so stop them first. Close is idempotent.
func (ns *NS) Close() error {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if ns.closed {
		return nil
	}
	ns.closed = true
	if ns.nl != nil {
		ns.nl.Close()
	}
	var errs []error
	if err := ns.handle.Close(); err != nil {
		errs = append(errs, err)
	}
	if out, err := exec.Command("ip", "netns", "del", ns.Name).CombinedOutput(); err != nil {
		errs = append(errs, fmt.Errorf("ip netns del %s: %v: %s", ns.Name, err, out))
	}
	return errors.Join(errs...)
}

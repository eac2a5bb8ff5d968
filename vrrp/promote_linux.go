package vrrp

import (
	"errors"
	"sync"

	"github.com/vishvananda/netns"
)

// promoteKeeper counts, per network namespace and interface, the running
// instances with PromoteSecondaries, as keepalived counts them
// (vrrp_if_config.c, set_promote_secondaries): the first one sets the
// interface's promote_secondaries when it is not set, and the last one to
// stop clears it again, only if it was set here.
type promoteKeeper struct {
	mu    sync.Mutex
	users map[promoteKey]*promoteUse
}

type promoteKey struct {
	ns     nsID
	ifname string
}

type promoteUse struct {
	users int
	set   bool // promote_secondaries was 0 and was set to 1 here
}

var promoted = &promoteKeeper{users: map[promoteKey]*promoteUse{}}

// acquire sets net.ipv4.conf.IFNAME.promote_secondaries in ns unless it is
// set already, or another instance holds it.
func (k *promoteKeeper) acquire(ns netns.NsHandle, ifname string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	id, err := namespaceID(ns)
	if err != nil {
		return err
	}
	key := promoteKey{id, ifname}
	u := k.users[key]
	if u == nil {
		u = &promoteUse{}
		k.users[key] = u
	}
	u.users++
	if u.users > 1 {
		return nil
	}
	return inNS(ns, func() error {
		path := "net/ipv4/conf/" + ifname + "/promote_secondaries"
		if readSysctl(path) == 1 {
			return nil
		}
		u.set = true
		return writeSysctl(path, "1")
	})
}

// release undoes acquire.
func (k *promoteKeeper) release(ns netns.NsHandle, ifname string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	id, err := namespaceID(ns)
	if err != nil {
		return err
	}
	key := promoteKey{id, ifname}
	u := k.users[key]
	if u == nil {
		return nil
	}
	if u.users--; u.users > 0 {
		return nil
	}
	delete(k.users, key)
	if !u.set {
		return nil
	}
	return inNS(ns, func() error {
		return writeSysctl("net/ipv4/conf/"+ifname+"/promote_secondaries", "0")
	})
}

// promote sets promote_secondaries on the interfaces of the instances
// that ask for it (a VMAC has it set anyway), remembering them for
// unpromote.
func (h *linuxHost) promote(cfgs []Config) error {
	for _, c := range cfgs {
		if !c.PromoteSecondaries || c.VMAC != nil {
			continue
		}
		if err := promoted.acquire(h.ns, c.Interface); err != nil {
			return err
		}
		h.promoted = append(h.promoted, c.Interface)
	}
	return nil
}

// unpromote undoes promote.
func (h *linuxHost) unpromote() error {
	var errs []error
	for _, n := range h.promoted {
		errs = append(errs, promoted.release(h.ns, n))
	}
	h.promoted = nil
	return errors.Join(errs...)
}

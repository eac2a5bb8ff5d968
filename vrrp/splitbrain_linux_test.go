package vrrp

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/netnstest"
)

// cutVRRP drops, or lets through again, the VRRP packets ns receives: a
// partition of the VRRP link with every link up, as a mis-set firewall or
// a congested switch makes one.
func cutVRRP(t *testing.T, ns *netnstest.NS, cut bool) {
	t.Helper()
	if !cut {
		ns.Run(t, "nft", "delete", "table", "inet", "vrrpcut")
		return
	}
	ns.Run(t, "nft", "add", "table", "inet", "vrrpcut")
	ns.Run(t, "nft", "add", "chain", "inet", "vrrpcut", "in", "{", "type", "filter", "hook", "input", "priority", "-300", ";", "}")
	ns.Run(t, "nft", "add", "rule", "inet", "vrrpcut", "in", "ip", "protocol", "112", "drop")
}

// neighMAC returns the link-layer address ns's neighbour table holds for
// addr on ifname, or "" without an entry that has one.
func neighMAC(t *testing.T, ns *netnstest.NS, ifname string, addr netip.Addr) string {
	t.Helper()
	f := strings.Fields(ns.Run(t, "ip", "neigh", "show", addr.String(), "dev", ifname))
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "lladdr" {
			return f[i+1]
		}
	}
	return ""
}

func waitNeighMAC(t *testing.T, ns *netnstest.NS, addr netip.Addr, mac, what string, timeout time.Duration) {
	t.Helper()
	netnstest.WaitFor(t, fmt.Sprintf("%s: %s's neighbour entry for %s to be %s", what, ns.Name, addr, mac), timeout, func() bool {
		return neighMAC(t, ns, "eth0", addr) == mac
	})
}

// splitBrainBed is two speakers (lb1 priority 102, lb2 101, one burst of
// gratuitous ARPs on becoming MASTER and one on hearing a lower priority)
// and a client on the lan, in a split brain: VRRP dropped on both, both
// MASTER, the client moved to lb2's MAC by lb2's gratuitous ARPs.
type splitBrainBed struct {
	client     *netnstest.NS
	hs         []*netnstest.NS
	lb1, lb2   *speaker
	vip        netip.Addr
	mac1, mac2 string
}

func splitBrain(t *testing.T) *splitBrainBed {
	t.Helper()
	netnstest.RequirePrivileged(t, "nft")
	tp, hs := articleHosts(t, 2)
	sb := &splitBrainBed{client: tp.Host("client"), hs: hs, vip: articleVIP.Addr(),
		mac1: macOf(t, hs[0], "eth0").String(), mac2: macOf(t, hs[1], "eth0").String()}
	tp.Connect(sb.client, "eth0", "lan", "192.168.0.254/24")
	cfg1, cfg2 := articleConfig(102), articleConfig(101)
	cfg1.GARPDelay, cfg2.GARPDelay = -1, -1
	cfg1.GARPLowerPrioDelay = -1
	sb.lb1 = startSpeaker(t, hs[0], cfg1)
	sb.lb1.waitState(t, StateMaster, 20*time.Second)
	sb.lb2 = startSpeaker(t, hs[1], cfg2)
	sb.lb2.waitState(t, StateBackup, 20*time.Second)
	sb.client.Run(t, "ping", "-c", "1", "-W", "5", sb.vip.String())
	if got := neighMAC(t, sb.client, "eth0", sb.vip); got != sb.mac1 {
		t.Fatalf("client resolved the VIP to %q, want lb1's %s", got, sb.mac1)
	}
	cutVRRP(t, hs[0], true)
	cutVRRP(t, hs[1], true)
	sb.lb2.waitState(t, StateMaster, 20*time.Second)
	waitNeighMAC(t, sb.client, sb.vip, sb.mac2, "split", 10*time.Second)
	if sb.lb1.state() != StateMaster {
		t.Fatalf("lb1 is %v during the split, want MASTER", sb.lb1.state())
	}
	return sb
}

// A healed split brain: both nodes were MASTER and the client learnt the
// lower-priority node's MAC for the VIP from its gratuitous ARPs. When the
// higher-priority MASTER hears the other's advert it stays MASTER and
// sends gratuitous ARPs, so the client's neighbour entry points at it
// again at once, instead of at a node that no longer has the VIP until the
// entry expires.
func TestIntegrationHealedSplitBrainRefreshesNeighbours(t *testing.T) {
	sb := splitBrain(t)
	client, hs, lb1, lb2, vip, mac1 := sb.client, sb.hs, sb.lb1, sb.lb2, sb.vip, sb.mac1
	heard := lb1.r.Stats().Instances[0].LowerPriorityHeard

	// Heal lb1's side first, so that it hears lb2's adverts while lb2,
	// still deaf, stays MASTER: the client must come back to lb1 from
	// lb1's gratuitous ARPs alone.
	cutVRRP(t, hs[0], false)
	waitNeighMAC(t, client, vip, mac1, "lb1 hears lb2", 10*time.Second)
	st := lb1.r.Stats().Instances[0]
	if st.LowerPriorityHeard <= heard {
		t.Errorf("lb1 counted %d lower-priority adverts, %d before the heal", st.LowerPriorityHeard, heard)
	}
	if lb1.state() != StateMaster || lb2.state() != StateMaster {
		t.Fatalf("lb1 %v, lb2 %v before lb2 hears again; want both MASTER", lb1.state(), lb2.state())
	}

	// Heal lb2's side: lb2 hears lb1's higher priority and steps down;
	// lb1 never leaves MASTER.
	cutVRRP(t, hs[1], false)
	lb2.waitState(t, StateBackup, 10*time.Second)
	waitAddr(t, hs[1], "eth0", articleVIP, false)
	lb1.holdState(t, StateMaster, 2*time.Second)
	if got := neighMAC(t, client, "eth0", vip); got != mac1 {
		t.Errorf("client's entry for the VIP is %q after the heal, want lb1's %s", got, mac1)
	}
	lb1.mu.Lock()
	defer lb1.mu.Unlock()
	for _, tr := range lb1.trans[2:] { // INIT -> BACKUP -> MASTER, then none
		t.Errorf("lb1 made a transition after becoming MASTER: %v -> %v (%v)", tr.From, tr.To, tr.Cause)
	}
}

// A split brain that heals while the lower-priority MASTER's adverts are
// not heard by the other (the heal happens just after it sent one, and
// the other's advert reaches it first): it steps down before its next
// advert. Without its last advert on yielding, the higher-priority MASTER
// would never hear a lower priority, send no gratuitous ARP, and the
// client would keep the yielding node's MAC for the VIP.
func TestIntegrationYieldingMasterMakesTheOtherAnnounce(t *testing.T) {
	sb := splitBrain(t)
	client, hs, lb1, lb2, vip, mac1 := sb.client, sb.hs, sb.lb1, sb.lb2, sb.vip, sb.mac1
	heard := lb1.r.Stats().Instances[0].LowerPriorityHeard

	// Heal both sides right after lb2 sent an advert: lb1's next advert
	// (within 1 s) reaches lb2 before lb2's next one (1 s away).
	sent := lb2.r.Stats().Instances[0].AdvertsSent
	netnstest.WaitFor(t, "lb2 sending an advert", 5*time.Second, func() bool {
		return lb2.r.Stats().Instances[0].AdvertsSent > sent
	})
	cutVRRP(t, hs[0], false)
	cutVRRP(t, hs[1], false)
	lb2.waitState(t, StateBackup, 10*time.Second)
	waitNeighMAC(t, client, vip, mac1, "lb2 yielded", 5*time.Second)
	st1, st2 := lb1.r.Stats().Instances[0], lb2.r.Stats().Instances[0]
	if st1.LowerPriorityHeard <= heard {
		t.Errorf("lb1 heard no lower priority after the heal (%d, %d before)", st1.LowerPriorityHeard, heard)
	}
	if st2.YieldAdverts != 1 {
		t.Errorf("lb2 sent %d adverts on yielding, want 1", st2.YieldAdverts)
	}
	if lb1.state() != StateMaster {
		t.Errorf("lb1 is %v, want MASTER", lb1.state())
	}
}

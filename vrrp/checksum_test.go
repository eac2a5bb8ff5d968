package vrrp_test

import (
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/lvskit/lvskit/vrrp"
	"github.com/lvskit/lvskit/vrrp/vrrptest"
)

// A unicast VRRPv3 peer computing keepalived's old checksum: an Auto
// instance follows it and they elect one MASTER; a Never one drops its
// adverts as bad checksums and both are MASTER.
func TestRouterOldUnicastChecksum(t *testing.T) {
	for _, mode := range []vrrp.UnicastChecksum{vrrp.UnicastChecksumAuto, vrrp.UnicastChecksumNever} {
		synctest.Test(t, func(t *testing.T) {
			b := vrrptest.NewBus()
			a1, a2 := netip.MustParseAddr("172.16.0.1"), netip.MustParseAddr("172.16.0.2")
			unicast := func(peer netip.Addr, prio uint8, m vrrp.UnicastChecksum) func(*vrrp.Config) {
				return func(c *vrrp.Config) {
					c.Version, c.AdvertInterval, c.Priority = vrrp.Version3, time.Second, prio
					c.UnicastPeers, c.UnicastChecksum = []netip.Addr{peer}, m
				}
			}
			old := start(t, b, "172.16.0.1", unicast(a2, 150, vrrp.UnicastChecksumOld))
			n := start(t, b, "172.16.0.2", unicast(a1, 100, mode))
			time.Sleep(10 * time.Second)
			synctest.Wait()
			st := n.r.Stats().Instances[0]
			if mode == vrrp.UnicastChecksumAuto {
				checkOneMaster(t, old, old, n)
				if !st.OldUnicastChecksum || st.Dropped[vrrp.ReasonChecksum] != 0 {
					t.Errorf("auto: stats %+v, want the old checksum followed and no drop", st)
				}
				return
			}
			if n.state() != vrrp.StateMaster || st.OldUnicastChecksum || st.Dropped[vrrp.ReasonChecksum] == 0 {
				t.Errorf("never: state %v, stats %+v; want MASTER with the adverts dropped as bad checksums", n.state(), st)
			}
		})
	}
}

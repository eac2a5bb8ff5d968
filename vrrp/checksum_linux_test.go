package vrrp

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/netnstest"
)

// unicastV3Conf is keepalived's unicast VRRPv3 instance on lb1 (eth1,
// 172.16.0.1) with lb2 as its peer, with extra lines.
func unicastV3Conf(prio int, extra string) string {
	return fmt.Sprintf(`global_defs {
	router_id lvskit_test
}
vrrp_instance VI_1 {
	state BACKUP
	interface eth1
	virtual_router_id 1
	priority %d
	advert_int 1
	version 3
	unicast_src_ip %s
	unicast_peer {
		%s
	}
%s	virtual_ipaddress {
		192.168.0.100/24 dev eth0
	}
}
`, prio, svcAddr(0), svcAddr(1), extra)
}

func unicastV3Config(prio uint8, mode UnicastChecksum) Config {
	c := articleConfig(prio)
	c.Version, c.UnicastPeers, c.UnicastSrc, c.UnicastChecksum = Version3, []netip.Addr{svcAddr(0)}, svcAddr(1), mode
	return c
}

// TestIntegrationOldUnicastChecksumKeepalived runs keepalived and the
// router as unicast VRRPv3 peers, one of them computing keepalived's pre-2.0
// checksum (old_unicast_checksum): the other follows it, as keepalived
// 2.2.7 does, and the higher priority is the one MASTER.
func TestIntegrationOldUnicastChecksumKeepalived(t *testing.T) {
	netnstest.RequirePrivileged(t, "keepalived")
	t.Run("keepalived old", func(t *testing.T) {
		_, hs := articleHosts(t, 2)
		k := startKeepalived(t, hs[0], unicastV3Conf(150, "\told_unicast_checksum\n"))
		k.waitLog(t, "", "Entering MASTER STATE", 30*time.Second)
		s := startSpeaker(t, hs[1], unicastV3Config(100, UnicastChecksumAuto))
		s.waitState(t, StateBackup, 10*time.Second)
		s.holdState(t, StateBackup, 5*time.Second)
		st := s.r.Stats().Instances[0]
		if !st.OldUnicastChecksum || st.AdvertsReceived < 3 {
			t.Errorf("stats %+v: want keepalived's old checksum followed and its adverts accepted", st)
		}
		waitAddr(t, hs[0], "eth0", articleVIP, true)
	})
	t.Run("lvskit old", func(t *testing.T) {
		_, hs := articleHosts(t, 2)
		k := startKeepalived(t, hs[0], unicastV3Conf(100, ""))
		k.waitLog(t, "", "Entering MASTER STATE", 30*time.Second)
		s := startSpeaker(t, hs[1], unicastV3Config(150, UnicastChecksumOld))
		s.waitState(t, StateMaster, 20*time.Second)
		k.waitLog(t, "Entering MASTER STATE", "(VI_1) Setting unicast VRRPv3 checksum to old version", 10*time.Second)
		k.waitLog(t, "Entering MASTER STATE", "(VI_1) Entering BACKUP STATE", 10*time.Second)
		// keepalived's adverts as MASTER, with the RFC's checksum, were
		// dropped, as keepalived configured so drops them; none since.
		before := s.r.Stats().Instances[0].Dropped[ReasonChecksum]
		s.holdState(t, StateMaster, 5*time.Second)
		if st := s.r.Stats().Instances[0]; st.Dropped[ReasonChecksum] != before {
			t.Errorf("keepalived's adverts dropped as bad checksums after it followed: %d, then %d", before, st.Dropped[ReasonChecksum])
		}
		waitAddr(t, hs[1], "eth0", articleVIP, true)
		waitAddr(t, hs[0], "eth0", articleVIP, false)
	})
	t.Run("lvskit never", func(t *testing.T) {
		_, hs := articleHosts(t, 2)
		k := startKeepalived(t, hs[0], unicastV3Conf(150, "\told_unicast_checksum\n"))
		k.waitLog(t, "", "Entering MASTER STATE", 30*time.Second)
		s := startSpeaker(t, hs[1], unicastV3Config(100, UnicastChecksumNever))
		s.waitState(t, StateMaster, 20*time.Second) // keepalived's adverts do not check
		if st := s.r.Stats().Instances[0]; st.OldUnicastChecksum || st.Dropped[ReasonChecksum] == 0 {
			t.Errorf("stats %+v: want keepalived's adverts dropped as bad checksums", st)
		}
	})
}

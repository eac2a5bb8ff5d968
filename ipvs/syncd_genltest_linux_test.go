//go:build linux

package ipvs_test

import (
	"encoding/binary"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lvskit/lvskit/ipvs"
	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// TestGenltestEnsureDaemon: EnsureDaemon reads the daemons, leaves alone a
// master that matches, and replaces one that does not with DEL_DAEMON then
// NEW_DAEMON, whose payloads are pinned; EnsureNoDaemon takes ESRCH as
// nothing to stop.
func TestGenltestEnsureDaemon(t *testing.T) {
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("golden bytes are little-endian")
	}
	// A master on eth0 with sync ID 7 and the kernel's defaults, as
	// ip_vs_genl_fill_daemon lays it out.
	running := hexBytes(t, `40 00 03 00 08 00 01 00 01 00 00 00 09 00 02 00 65 74 68 30 00 00 00 00
08 00 03 00 07 00 00 00 06 00 04 00 c0 05 00 00 06 00 07 00 90 22 00 00 05 00 08 00 01 00 00 00
08 00 05 00 e0 00 00 51`)
	type sent struct {
		Cmd  uint8
		Data []byte
	}
	var got []sent
	conn := genlConn(t, func(gm genetlink.Message, nm netlink.Message) ([]genetlink.Message, error) {
		if gm.Header.Command == 11 {
			got = append(got, sent{Cmd: 11})
			return []genetlink.Message{{Header: genetlink.Header{Command: 9, Version: 1}, Data: running}}, nil
		}
		got = append(got, sent{Cmd: gm.Header.Command, Data: nm.Data})
		if gm.Header.Command == 10 && len(gm.Data) >= 12 && gm.Data[8] == 2 {
			return nil, errnoFail(unix.ESRCH) // no backup runs
		}
		return nil, nil
	})
	c, err := ipvs.New(conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	changed, err := c.EnsureDaemon(ipvs.Daemon{State: ipvs.DaemonMaster, Interface: "eth0", SyncID: 7})
	if err != nil || changed {
		t.Errorf("EnsureDaemon of the running master = %v, %v; want false, nil", changed, err)
	}
	if diff := cmp.Diff([]sent{{Cmd: 11}}, got); diff != "" {
		t.Errorf("requests for a matching daemon (-want +got):\n%s", diff)
	}

	got = nil
	changed, err = c.EnsureDaemon(ipvs.Daemon{State: ipvs.DaemonMaster, Interface: "eth0", SyncID: 8})
	if err != nil || !changed {
		t.Errorf("EnsureDaemon with another sync ID = %v, %v; want true, nil", changed, err)
	}
	want := []sent{
		{Cmd: 11},
		{Cmd: 10, Data: hexBytes(t, `0a 01 00 00 0c 00 03 00 08 00 01 00 01 00 00 00`)},
		{Cmd: 9, Data: hexBytes(t, `09 01 00 00 20 00 03 00 08 00 01 00 01 00 00 00 09 00 02 00 65 74 68 30 00 00 00 00
08 00 03 00 08 00 00 00`)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("requests for a daemon to replace (-want +got):\n%s", diff)
	}

	got = nil
	stopped, err := c.EnsureNoDaemon(ipvs.DaemonBackup)
	if err != nil || stopped {
		t.Errorf("EnsureNoDaemon(backup) with none running = %v, %v; want false, nil", stopped, err)
	}
	stopped, err = c.EnsureNoDaemon(ipvs.DaemonMaster)
	if err != nil || !stopped {
		t.Errorf("EnsureNoDaemon(master) = %v, %v; want true, nil", stopped, err)
	}
}

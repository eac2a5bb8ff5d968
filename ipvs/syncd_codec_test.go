package ipvs

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
)

// TestDaemonEncodeGolden pins the payloads of the sync daemon commands
// (generic netlink header plus attributes), checked field by field against
// ip_vs.h: the DAEMON attribute (3) nests STATE u32 (1), MCAST_IFN string
// (2), SYNC_ID u32 (3), SYNC_MAXLEN u16 (4), MCAST_PORT u16 in host order
// (7), MCAST_TTL u8 (8), and MCAST_GROUP (5, 4 bytes) or MCAST_GROUP6
// (6, 16 bytes).
func TestDaemonEncodeGolden(t *testing.T) {
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("golden bytes are little-endian")
	}
	tests := []struct {
		name string
		cmd  uint8
		enc  func(*netlink.AttributeEncoder)
		want string
	}{
		{
			name: "NEW_DAEMON backup eth1 syncid 5 maxlen 1400 port 8849 ttl 2 group 239.1.1.1",
			cmd:  cmdNewDaemon,
			enc: func(ae *netlink.AttributeEncoder) {
				encodeDaemon(ae, Daemon{State: DaemonBackup, Interface: "eth1", SyncID: 5, MaxLen: 1400,
					Group: netip.MustParseAddr("239.1.1.1"), Port: 8849, TTL: 2}, true)
			},
			want: `09 01 00 00 40 00 03 00
08 00 01 00 02 00 00 00
09 00 02 00 65 74 68 31 00 00 00 00
08 00 03 00 05 00 00 00
06 00 04 00 78 05 00 00
06 00 07 00 91 22 00 00
05 00 08 00 02 00 00 00
08 00 05 00 ef 01 01 01`,
		},
		{
			name: "NEW_DAEMON master sync0 syncid 0 group ff02::8",
			cmd:  cmdNewDaemon,
			enc: func(ae *netlink.AttributeEncoder) {
				encodeDaemon(ae, Daemon{State: DaemonMaster, Interface: "sync0", Group: netip.MustParseAddr("ff02::8")}, true)
			},
			want: `09 01 00 00 34 00 03 00
08 00 01 00 01 00 00 00
0a 00 02 00 73 79 6e 63 30 00 00 00
08 00 03 00 00 00 00 00
14 00 06 00 ff 02 00 00 00 00 00 00 00 00 00 00 00 00 00 08`,
		},
		{
			name: "DEL_DAEMON backup: the state only",
			cmd:  cmdDelDaemon,
			enc: func(ae *netlink.AttributeEncoder) {
				encodeDaemon(ae, Daemon{State: DaemonBackup, Interface: "eth1", SyncID: 5}, false)
			},
			want: `0a 01 00 00 0c 00 03 00 08 00 01 00 02 00 00 00`,
		},
		{
			name: "GET_DAEMON: no attributes",
			cmd:  cmdGetDaemon,
			want: `0b 01 00 00`,
		},
	}
	c := &Client{family: 0x24}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := c.message(tt.cmd, netlink.Request, tt.enc)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(mustHex(t, tt.want), m.Data); diff != "" {
				t.Errorf("payload (-want +got):\n%s\ngot %x", diff, m.Data)
			}
		})
	}
}

// kernelDaemon is a GET_DAEMON reply laid out as ip_vs_genl_fill_daemon
// does: state, interface, sync ID, the kernel's defaults for maxlen
// (1472 on a 1500-byte MTU), port and TTL, then the IPv4 group.
const kernelDaemon = `40 00 03 00
08 00 01 00 01 00 00 00
09 00 02 00 65 74 68 30 00 00 00 00
08 00 03 00 07 00 00 00
06 00 04 00 c0 05 00 00
06 00 07 00 90 22 00 00
05 00 08 00 01 00 00 00
08 00 05 00 e0 00 00 51`

func TestDaemonDecodeKernelReply(t *testing.T) {
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("golden bytes are little-endian")
	}
	b, err := nested(genetlink.Message{Data: mustHex(t, kernelDaemon)}, attrDaemon)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeDaemon(b)
	if err != nil {
		t.Fatal(err)
	}
	want := Daemon{State: DaemonMaster, Interface: "eth0", SyncID: 7, MaxLen: 1472,
		Group: netip.AddrFrom4(DefaultSyncGroup), Port: DefaultSyncPort, TTL: DefaultSyncTTL}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("decoded daemon (-want +got):\n%s", diff)
	}
	if !(Daemon{State: DaemonMaster, Interface: "eth0", SyncID: 7}).Matches(got) {
		t.Error("a daemon with default settings does not match the kernel's listing of it")
	}
	// Truncated attributes are an error, not a panic.
	if _, err := decodeDaemon(mustHex(t, "08 00 01 00 01 00")); err == nil {
		t.Error("truncated daemon attributes decoded without error")
	}
}

func TestDaemonMatches(t *testing.T) {
	running := Daemon{State: DaemonBackup, Interface: "eth1", SyncID: 3, MaxLen: 1472,
		Group: netip.AddrFrom4(DefaultSyncGroup), Port: 8848, TTL: 1}
	tests := []struct {
		name string
		want Daemon
		ok   bool
	}{
		{"defaults left to the kernel", Daemon{State: DaemonBackup, Interface: "eth1", SyncID: 3}, true},
		{"every setting equal", running, true},
		{"IPv4-mapped group", Daemon{State: DaemonBackup, Interface: "eth1", SyncID: 3, Group: netip.MustParseAddr("::ffff:224.0.0.81")}, true},
		{"other state", Daemon{State: DaemonMaster, Interface: "eth1", SyncID: 3}, false},
		{"other interface", Daemon{State: DaemonBackup, Interface: "eth0", SyncID: 3}, false},
		{"other sync ID", Daemon{State: DaemonBackup, Interface: "eth1", SyncID: 4}, false},
		{"other port", Daemon{State: DaemonBackup, Interface: "eth1", SyncID: 3, Port: 8849}, false},
		{"other ttl", Daemon{State: DaemonBackup, Interface: "eth1", SyncID: 3, TTL: 2}, false},
		{"other maxlen", Daemon{State: DaemonBackup, Interface: "eth1", SyncID: 3, MaxLen: 1400}, false},
		{"other group", Daemon{State: DaemonBackup, Interface: "eth1", SyncID: 3, Group: netip.MustParseAddr("239.0.0.1")}, false},
	}
	for _, tt := range tests {
		if got := tt.want.Matches(running); got != tt.ok {
			t.Errorf("%s: Matches = %v, want %v", tt.name, got, tt.ok)
		}
	}
}

func TestDaemonValidate(t *testing.T) {
	tests := []struct {
		d    Daemon
		want string
	}{
		{Daemon{State: DaemonMaster, Interface: "eth0", SyncID: 256}, "syncid 256"},
		{Daemon{State: 3, Interface: "eth0"}, "state 3"},
		{Daemon{State: DaemonBackup}, `interface ""`},
		{Daemon{State: DaemonBackup, Interface: "eth0", Group: netip.MustParseAddr("10.0.0.1")}, "group 10.0.0.1"},
	}
	for _, tt := range tests {
		err := (Op{Kind: StartDaemon, Daemon: tt.d}).validate()
		if err == nil || !contains(err.Error(), tt.want) {
			t.Errorf("validate(%+v) = %v, want an error naming %q", tt.d, err, tt.want)
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

package nat

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/nftables"
	"github.com/mdlayher/netlink"
	"github.com/mdlayher/netlink/nltest"
	"golang.org/x/sys/unix"
)

// The golden messages in testdata/nft-netlink.txt are what nft(8) v1.0.6
// itself sent for each command, recorded by testdata/record-nft.sh: it runs
// the command under `strace -e trace=sendmsg -e write=all` inside a fresh
// network namespace and splits the dumped batch into netlink messages. To
// record again (as root, with nft and strace installed):
//
//	sh nat/testdata/record-nft.sh > nat/testdata/nft-netlink.txt

type nftMsg struct {
	typ     netlink.HeaderType
	flags   netlink.HeaderFlags
	payload []byte // everything after the 16-byte netlink header
}

func loadNft(t *testing.T) map[string][]nftMsg {
	t.Helper()
	f, err := os.Open("testdata/nft-netlink.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	golden := make(map[string][]nftMsg)
	cmd := ""
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if c, ok := strings.CutPrefix(line, "# nft "); ok {
			cmd = c
			golden[cmd] = nil
			continue
		}
		var typ, flags, payload string
		if _, err := fmt.Sscanf(line, "type=%s flags=%s payload=%s", &typ, &flags, &payload); err != nil {
			t.Fatalf("golden line %q: %v", line, err)
		}
		ty, err1 := strconv.ParseUint(typ, 0, 16)
		fl, err2 := strconv.ParseUint(flags, 0, 16)
		p, err3 := hex.DecodeString(payload)
		if err1 != nil || err2 != nil || err3 != nil || cmd == "" {
			t.Fatalf("golden line %q: bad field", line)
		}
		golden[cmd] = append(golden[cmd], nftMsg{netlink.HeaderType(ty), netlink.HeaderFlags(fl), p})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return golden
}

// nftOne returns the single message nft sent for cmd.
func nftOne(t *testing.T, golden map[string][]nftMsg, cmd string) nftMsg {
	t.Helper()
	m, ok := golden[cmd]
	if !ok || len(m) != 1 {
		t.Fatalf("golden file has %d messages for %q, want 1", len(m), cmd)
	}
	return m[0]
}

const (
	msgNewTable = unix.NFNL_SUBSYS_NFTABLES<<8 | unix.NFT_MSG_NEWTABLE
	msgDelTable = unix.NFNL_SUBSYS_NFTABLES<<8 | unix.NFT_MSG_DELTABLE
	msgNewChain = unix.NFNL_SUBSYS_NFTABLES<<8 | unix.NFT_MSG_NEWCHAIN
	msgNewRule  = unix.NFNL_SUBSYS_NFTABLES<<8 | unix.NFT_MSG_NEWRULE
	msgDelRule  = unix.NFNL_SUBSYS_NFTABLES<<8 | unix.NFT_MSG_DELRULE
	msgGetRule  = unix.NFNL_SUBSYS_NFTABLES<<8 | unix.NFT_MSG_GETRULE
	msgGetTable = unix.NFNL_SUBSYS_NFTABLES<<8 | unix.NFT_MSG_GETTABLE
)

// extraFlags are the header flags that google/nftables sets beyond nft's:
// it asks for an acknowledgement of every message (to report errors per
// message), echoes new rules, and marks new tables NLM_F_CREATE (which the
// kernel ignores for tables; both create or keep the table).
var extraFlags = map[netlink.HeaderType]netlink.HeaderFlags{
	msgNewTable: netlink.Acknowledge | netlink.Create,
	msgNewChain: netlink.Acknowledge,
	msgNewRule:  netlink.Acknowledge | unix.NLM_F_ECHO,
	msgDelRule:  netlink.Acknowledge,
	msgDelTable: netlink.Acknowledge,
}

// sortedAttrs returns payload (nfgenmsg + attributes) with its top-level
// attributes sorted by type, nested content untouched.
func sortedAttrs(t *testing.T, payload []byte) []byte {
	t.Helper()
	attrs, err := netlink.UnmarshalAttributes(payload[4:])
	if err != nil {
		t.Fatalf("unmarshal attributes: %v", err)
	}
	// UnmarshalAttributes strips the nested flag; MarshalAttributes would
	// not restore it, so rebuild by hand from the raw bytes instead.
	type raw struct {
		typ uint16
		b   []byte
	}
	var rs []raw
	b := payload[4:]
	for len(b) >= 4 {
		l := int(binary.LittleEndian.Uint16(b))
		n := (l + 3) &^ 3
		n = min(n, len(b))
		rs = append(rs, raw{binary.LittleEndian.Uint16(b[2:]) & 0x3fff, b[:n]})
		b = b[n:]
	}
	if len(rs) != len(attrs) {
		t.Fatalf("attribute walk found %d attributes, decoder %d", len(rs), len(attrs))
	}
	slices.SortStableFunc(rs, func(x, y raw) int { return int(x.typ) - int(y.typ) })
	out := slices.Clone(payload[:4])
	for _, r := range rs {
		out = append(out, r.b...)
	}
	return out
}

// checkLikeNft compares a message google/nftables sends with the one nft sent.
// The payloads must be equal byte for byte, with two documented exceptions
// that the kernel treats alike: for NEWCHAIN nft puts NFTA_CHAIN_TYPE before
// NFTA_CHAIN_HOOK (same attributes, other order), and for DELTABLE
// google/nftables adds NFTA_TABLE_FLAGS = 0, which the kernel ignores on
// delete.
func checkLikeNft(t *testing.T, what string, got netlink.Message, want nftMsg) {
	t.Helper()
	wire, err := got.MarshalBinary()
	if err != nil {
		t.Fatalf("%s: marshal: %v", what, err)
	}
	gotPayload := wire[16:]
	if got.Header.Type != want.typ {
		t.Errorf("%s: type %#04x, nft sent %#04x", what, uint16(got.Header.Type), uint16(want.typ))
		return
	}
	if wantFlags := want.flags | extraFlags[want.typ]; got.Header.Flags != wantFlags {
		t.Errorf("%s: flags %#04x, want nft's %#04x plus %#04x", what, uint16(got.Header.Flags), uint16(want.flags), uint16(extraFlags[want.typ]))
	}
	wantPayload := want.payload
	switch want.typ {
	case msgNewChain:
		if bytes.Equal(gotPayload, wantPayload) {
			t.Errorf("%s: attribute order now equals nft's: drop the NEWCHAIN exception", what)
		}
		gotPayload, wantPayload = sortedAttrs(t, gotPayload), sortedAttrs(t, wantPayload)
	case msgDelTable:
		flagsAttr := []byte{8, 0, unix.NFTA_TABLE_FLAGS, 0, 0, 0, 0, 0}
		trimmed, ok := bytes.CutSuffix(gotPayload, flagsAttr)
		if !ok {
			t.Errorf("%s: payload %x does not end in the NFTA_TABLE_FLAGS attribute", what, gotPayload)
		}
		gotPayload = trimmed
	}
	if !bytes.Equal(gotPayload, wantPayload) {
		t.Errorf("%s: payload differs from nft's (-nft +ours):\n%s", what, cmp.Diff(hexLines(wantPayload), hexLines(gotPayload)))
	}
}

// hexLines renders b as 16-byte hex lines for readable diffs.
func hexLines(b []byte) []string {
	var lines []string
	for len(b) > 0 {
		n := min(16, len(b))
		lines = append(lines, hex.EncodeToString(b[:n]))
		b = b[n:]
	}
	return lines
}

// fakeKernel answers the requests of a Switch the way the kernel would for a
// ruleset that holds rules (per family) and tables, and records every batch.
type fakeKernel struct {
	t       *testing.T
	tables  map[nftables.TableFamily]bool
	rules   map[nftables.TableFamily][][]byte // NEWRULE payloads (with handle) returned by GETRULE
	batches [][]netlink.Message
}

func (k *fakeKernel) dial(req []netlink.Message) ([]netlink.Message, error) {
	if len(req) == 0 {
		return nil, nil
	}
	first := req[0]
	switch first.Header.Type {
	case unix.NFNL_MSG_BATCH_BEGIN:
		if last := req[len(req)-1]; last.Header.Type != unix.NFNL_MSG_BATCH_END {
			k.t.Fatalf("batch ends with type %#x", uint16(last.Header.Type))
		}
		k.batches = append(k.batches, req[1:len(req)-1])
		return req, nil // echo, as TestConfigureNAT in google/nftables does
	case msgGetRule:
		fam := nftables.TableFamily(first.Data[0])
		var msgs []netlink.Message
		for _, p := range k.rules[fam] {
			msgs = append(msgs, netlink.Message{
				Header: netlink.Header{Type: msgNewRule, Sequence: first.Header.Sequence, PID: nltest.PID},
				Data:   p,
			})
		}
		msgs = append(msgs, netlink.Message{Header: netlink.Header{Type: netlink.Done, Sequence: first.Header.Sequence, PID: nltest.PID}})
		return nltest.Multipart(msgs)
	case msgGetTable:
		fam := nftables.TableFamily(first.Data[0])
		if !k.tables[fam] {
			return nltest.Error(int(unix.ENOENT), req)
		}
		return []netlink.Message{{
			Header: netlink.Header{Type: msgNewTable, Sequence: first.Header.Sequence, PID: nltest.PID},
			Data: append([]byte{byte(fam), 0, 0, 0}, nltest.MustMarshalAttributes([]netlink.Attribute{
				{Type: unix.NFTA_TABLE_NAME, Data: []byte(DefaultTable + "\x00")},
				{Type: unix.NFTA_TABLE_FLAGS, Data: []byte{0, 0, 0, 0}},
			})...),
		}}, nil
	}
	k.t.Fatalf("unexpected request type %#x", uint16(first.Header.Type))
	return nil, nil
}

func (k *fakeKernel) switchFor(t *testing.T, cfg Config) *Switch {
	t.Helper()
	c, err := cfg.validate()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := nftables.New(nftables.WithTestDial(k.dial))
	if err != nil {
		t.Fatal(err)
	}
	return newSwitch(c, conn)
}

// kernelRule turns nft's NEWRULE payload into what a GETRULE dump returns:
// the same attributes plus the rule's handle.
func kernelRule(payload []byte, handle uint64) []byte {
	h := make([]byte, 8)
	binary.BigEndian.PutUint64(h, handle)
	return append(slices.Clone(payload), nltest.MustMarshalAttributes([]netlink.Attribute{{Type: unix.NFTA_RULE_HANDLE, Data: h}})...)
}

var (
	vip100   = netip.MustParseAddr("192.168.0.100")
	vip101   = netip.MustParseAddr("192.168.0.101")
	local2   = netip.MustParseAddr("172.16.0.2")
	vip6     = netip.MustParseAddr("fd00::100")
	local6   = netip.MustParseAddr("fd00::2")
	ruleV4   = `add rule ip lvskit_nat prerouting iifname "eth1" ip daddr 192.168.0.100 dnat to 172.16.0.2`
	ruleV4b  = `add rule ip lvskit_nat prerouting iifname "eth1" ip daddr 192.168.0.101 dnat to 172.16.0.2`
	ruleV6   = `add rule ip6 lvskit_nat prerouting iifname "eth1" ip6 daddr fd00::100 dnat to fd00::2`
	tableV4  = `add table ip lvskit_nat`
	chainV4  = `add chain ip lvskit_nat prerouting { type nat hook prerouting priority dstnat; }`
	tableV6  = `add table ip6 lvskit_nat`
	chainV6  = `add chain ip6 lvskit_nat prerouting { type nat hook prerouting priority dstnat; }`
	delRule4 = `delete rule ip lvskit_nat prerouting handle 2`
	delRule6 = `delete rule ip6 lvskit_nat prerouting handle 2`
	delTbl4  = `delete table ip lvskit_nat`
	delTbl6  = `delete table ip6 lvskit_nat`
)

func TestMessagesMatchNft(t *testing.T) {
	golden := loadNft(t)
	cfgV4 := Config{Interface: "eth1", VIPs: []netip.Addr{vip100, vip101}, LocalIPv4: local2}
	cfgV6 := Config{Interface: "eth1", VIPs: []netip.Addr{vip6}, LocalIPv6: local6}
	cfgBoth := Config{Interface: "eth1", VIPs: []netip.Addr{vip6, vip100}, LocalIPv4: local2, LocalIPv6: local6}
	v4Rule := func(h uint64) []byte { return kernelRule(nftOne(t, golden, ruleV4).payload, h) }
	v4bRule := func(h uint64) []byte { return kernelRule(nftOne(t, golden, ruleV4b).payload, h) }
	v6Rule := func(h uint64) []byte { return kernelRule(nftOne(t, golden, ruleV6).payload, h) }

	tests := []struct {
		name   string
		cfg    Config
		tables map[nftables.TableFamily]bool
		rules  map[nftables.TableFamily][][]byte
		op     func(*Switch) error
		want   []string // nft commands whose messages make up the one batch; nil: no batch
	}{
		{
			name: "backup on an empty ruleset creates table, chain and a rule per VIP",
			cfg:  cfgV4,
			op:   (*Switch).Backup,
			want: []string{tableV4, chainV4, ruleV4, ruleV4b},
		},
		{
			name: "backup with one rule present adds only the missing one",
			cfg:  cfgV4,
			rules: map[nftables.TableFamily][][]byte{
				nftables.TableFamilyIPv4: {v4Rule(2)},
			},
			op:   (*Switch).Backup,
			want: []string{tableV4, chainV4, ruleV4b},
		},
		{
			name: "backup with the rules present sends nothing",
			cfg:  cfgV4,
			rules: map[nftables.TableFamily][][]byte{
				nftables.TableFamilyIPv4: {v4bRule(3), v4Rule(4)},
			},
			op: (*Switch).Backup,
		},
		{
			name: "backup deletes a duplicate",
			cfg:  Config{Interface: "eth1", VIPs: []netip.Addr{vip100}, LocalIPv4: local2},
			rules: map[nftables.TableFamily][][]byte{
				nftables.TableFamilyIPv4: {v4Rule(1), v4Rule(2)},
			},
			op:   (*Switch).Backup,
			want: []string{delRule4},
		},
		{
			name: "master deletes the rule of its VIP by handle",
			cfg:  Config{Interface: "eth1", VIPs: []netip.Addr{vip100}, LocalIPv4: local2},
			rules: map[nftables.TableFamily][][]byte{
				nftables.TableFamilyIPv4: {v4Rule(2), v4bRule(3)},
			},
			op:   (*Switch).Master,
			want: []string{delRule4},
		},
		{
			name: "master with no rules sends nothing",
			cfg:  cfgV4,
			op:   (*Switch).Master,
		},
		{
			name: "ipv6 backup",
			cfg:  cfgV6,
			op:   (*Switch).Backup,
			want: []string{tableV6, chainV6, ruleV6},
		},
		{
			name: "ipv6 master",
			cfg:  cfgV6,
			rules: map[nftables.TableFamily][][]byte{
				nftables.TableFamilyIPv6: {v6Rule(2)},
			},
			op:   (*Switch).Master,
			want: []string{delRule6},
		},
		{
			name: "both families in one batch, ip first",
			cfg:  cfgBoth,
			op:   (*Switch).Backup,
			want: []string{tableV4, chainV4, ruleV4, tableV6, chainV6, ruleV6},
		},
		{
			name:   "cleanup deletes both tables",
			cfg:    cfgV4,
			tables: map[nftables.TableFamily]bool{nftables.TableFamilyIPv4: true, nftables.TableFamilyIPv6: true},
			op:     (*Switch).Cleanup,
			want:   []string{delTbl4, delTbl6},
		},
		{
			name:   "cleanup skips a missing table",
			cfg:    cfgV4,
			tables: map[nftables.TableFamily]bool{nftables.TableFamilyIPv4: true},
			op:     (*Switch).Cleanup,
			want:   []string{delTbl4},
		},
		{
			name: "cleanup with no table sends nothing",
			cfg:  cfgV4,
			op:   (*Switch).Cleanup,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := &fakeKernel{t: t, tables: tt.tables, rules: tt.rules}
			s := k.switchFor(t, tt.cfg)
			if err := tt.op(s); err != nil {
				t.Fatal(err)
			}
			if tt.want == nil {
				if len(k.batches) != 0 {
					t.Fatalf("sent %d batches, want none", len(k.batches))
				}
				return
			}
			if len(k.batches) != 1 {
				t.Fatalf("sent %d batches, want 1", len(k.batches))
			}
			got := k.batches[0]
			if len(got) != len(tt.want) {
				t.Fatalf("batch has %d messages, want %d (%q)", len(got), len(tt.want), tt.want)
			}
			for i, cmd := range tt.want {
				checkLikeNft(t, fmt.Sprintf("message %d (nft %s)", i, cmd), got[i], nftOne(t, golden, cmd))
			}
		})
	}
}

func TestInstalledDecodesNftRules(t *testing.T) {
	golden := loadNft(t)
	k := &fakeKernel{t: t, rules: map[nftables.TableFamily][][]byte{
		nftables.TableFamilyIPv4: {
			kernelRule(nftOne(t, golden, ruleV4).payload, 2),
			kernelRule(nftOne(t, golden, ruleV4b).payload, 3),
		},
		nftables.TableFamilyIPv6: {kernelRule(nftOne(t, golden, ruleV6).payload, 2)},
	}}
	s := k.switchFor(t, Config{Interface: "eth1", VIPs: []netip.Addr{vip100}, LocalIPv4: local2})
	got, err := s.Installed()
	if err != nil {
		t.Fatal(err)
	}
	want := []Rule{
		{Interface: "eth1", VIP: vip100, To: local2},
		{Interface: "eth1", VIP: vip101, To: local2},
		{Interface: "eth1", VIP: vip6, To: local6},
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("Installed (-want +got):\n%s", diff)
	}
}

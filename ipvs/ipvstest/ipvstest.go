// Package ipvstest provides an in-memory fake of the kernel's IPVS generic
// netlink family, for tests of code that uses package ipvs without root or
// an IPVS kernel.
//
// The fake answers like the kernel does in the cases that matter to
// callers: it resolves the family (or not, with NoIPVS), requires the full
// service and destination attributes on NEW and SET (EINVAL otherwise),
// reports EEXIST, ESRCH and ENOENT as the kernel does, sends one
// acknowledgement or error per datagram, acknowledges only requests that ask
// for it, and returns IPv4 addresses in 16 bytes. It does not model traffic:
// counters stay zero.
package ipvstest

import (
	"bytes"
	"encoding/binary"
	"iter"
	"slices"
	"sync"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// FamilyID is the generic netlink family ID the fake gives IPVS.
const FamilyID = 0x24

const pid = 4242

// Linux constants, spelled out so that the fake builds everywhere.
const (
	genlIDCtrl         = 0x10
	ctrlCmdNewFamily   = 1
	ctrlAttrFamilyID   = 1
	ctrlAttrFamilyName = 2
	ctrlAttrVersion    = 3
	afInet             = 2
	afInet6            = 10
)

// Kernel is the fake IPVS of one network namespace. Its zero value is not
// usable; call New.
type Kernel struct {
	mu sync.Mutex
	// NoIPVS makes the IPVS family unknown, as on a kernel without IPVS.
	noIPVS     bool
	schedulers map[string]bool
	services   []*service
	timeouts   [3]uint32
	daemons    map[uint32]map[uint16][]byte
	// stopUnanswered makes the next DEL_DAEMON that stops a daemon go
	// unanswered; see StopUnanswered.
	stopUnanswered bool
	writes         int
	sends          int
}

type service struct {
	attrs map[uint16][]byte
	dests []map[uint16][]byte
}

// New returns a fake kernel with IPVS and the mainline schedulers.
func New() *Kernel {
	k := &Kernel{schedulers: map[string]bool{}, timeouts: [3]uint32{900, 120, 300}, daemons: map[uint32]map[uint16][]byte{}}
	for _, s := range []string{"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh"} {
		k.schedulers[s] = true
	}
	return k
}

// WithoutIPVS makes the fake behave as a kernel without IPVS.
func (k *Kernel) WithoutIPVS() *Kernel {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.noIPVS = true
	return k
}

// RemoveScheduler makes a scheduler unavailable (as a missing module).
func (k *Kernel) RemoveScheduler(name string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.schedulers, name)
}

// StopUnanswered makes the next DEL_DAEMON that stops a daemon stop it and
// send no answer at all, acknowledgement requested or not. The kernel does
// so when the daemon's thread has not run yet: kthread_stop then returns
// -EINTR (kernel/kthread.c, kthread), stop_sync_thread passes it on, and
// netlink_rcv_skb (net/netlink/af_netlink.c) answers nothing for -EINTR.
func (k *Kernel) StopUnanswered() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.stopUnanswered = true
}

// Writes returns how many write requests (everything but GET commands and
// the family lookup) the fake has received.
func (k *Kernel) Writes() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.writes
}

// Sends returns how many send system calls the fake has received.
func (k *Kernel) Sends() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.sends
}

// Conn returns a new netlink connection to the fake, for ipvs.New.
func (k *Kernel) Conn() *netlink.Conn {
	return netlink.NewConn(&socket{k: k}, pid)
}

type socket struct {
	k     *Kernel
	mu    sync.Mutex
	queue [][]netlink.Message // datagrams
}

func (s *socket) Close() error { return nil }

func (s *socket) Send(m netlink.Message) error { return s.SendMessages([]netlink.Message{m}) }

func (s *socket) SendMessages(ms []netlink.Message) error {
	s.k.mu.Lock()
	s.k.sends++
	s.k.mu.Unlock()
	for _, m := range ms {
		dgrams := s.k.handle(m)
		s.mu.Lock()
		s.queue = append(s.queue, dgrams...)
		s.mu.Unlock()
	}
	return nil
}

func (s *socket) Receive() ([]netlink.Message, error) {
	var out []netlink.Message
	for m, err := range s.ReceiveIter() {
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

func (s *socket) ReceiveIter() iter.Seq2[netlink.Message, error] {
	return func(yield func(netlink.Message, error) bool) {
		s.mu.Lock()
		if len(s.queue) == 0 {
			s.mu.Unlock()
			yield(netlink.Message{}, unix.EAGAIN)
			return
		}
		d := s.queue[0]
		s.queue = s.queue[1:]
		s.mu.Unlock()
		for _, m := range d {
			if !yield(m, nil) {
				return
			}
		}
	}
}

func ack(req netlink.Message, errno unix.Errno) netlink.Message {
	data := binary.NativeEndian.AppendUint32(nil, uint32(-int32(errno)))
	hdr := make([]byte, 16)
	binary.NativeEndian.PutUint32(hdr[0:], req.Header.Length)
	binary.NativeEndian.PutUint16(hdr[4:], uint16(req.Header.Type))
	binary.NativeEndian.PutUint16(hdr[6:], uint16(req.Header.Flags))
	binary.NativeEndian.PutUint32(hdr[8:], req.Header.Sequence)
	binary.NativeEndian.PutUint32(hdr[12:], req.Header.PID)
	flags := netlink.HeaderFlags(0)
	if errno != 0 {
		flags = 0x100 // NLM_F_CAPPED
	}
	return netlink.Message{
		Header: netlink.Header{Type: netlink.Error, Flags: flags, Sequence: req.Header.Sequence, PID: req.Header.PID},
		Data:   append(data, hdr...),
	}
}

func reply(req netlink.Message, cmd uint8, attrs []byte) netlink.Message {
	gm := genetlink.Message{Header: genetlink.Header{Command: cmd, Version: 1}, Data: attrs}
	b, _ := gm.MarshalBinary()
	return netlink.Message{Header: netlink.Header{Type: FamilyID, Sequence: req.Header.Sequence, PID: req.Header.PID}, Data: b}
}

// errUnanswered is the errno command returns for a request the kernel
// leaves without an answer (-EINTR: see StopUnanswered).
const errUnanswered = unix.EINTR

// handle processes one request and returns the datagrams it causes.
func (k *Kernel) handle(m netlink.Message) [][]netlink.Message {
	k.mu.Lock()
	defer k.mu.Unlock()
	// The kernel answers control messages (NLMSG_NOOP and the like) only
	// with the acknowledgement a request asks for.
	if m.Header.Type < 0x10 {
		if m.Header.Flags&netlink.Acknowledge != 0 {
			return [][]netlink.Message{{ack(m, 0)}}
		}
		return nil
	}
	var gm genetlink.Message
	if err := gm.UnmarshalBinary(m.Data); err != nil {
		return [][]netlink.Message{{ack(m, unix.EINVAL)}}
	}
	if m.Header.Type == genlIDCtrl {
		return k.family(m, gm)
	}
	if m.Header.Type != FamilyID || k.noIPVS {
		return [][]netlink.Message{{ack(m, unix.ENOENT)}}
	}
	if m.Header.Flags&netlink.Request == 0 {
		return nil
	}
	msgs, errno := k.command(m, gm)
	if errno == errUnanswered {
		return nil
	}
	var out [][]netlink.Message
	if m.Header.Flags&netlink.Dump == netlink.Dump && errno == 0 {
		d := make([]netlink.Message, 0, len(msgs)+1)
		for _, r := range msgs {
			r.Header.Flags |= netlink.Multi
			d = append(d, r)
		}
		d = append(d, netlink.Message{
			Header: netlink.Header{Type: netlink.Done, Flags: netlink.Multi, Sequence: m.Header.Sequence, PID: m.Header.PID},
			Data:   make([]byte, 4),
		})
		return [][]netlink.Message{d}
	}
	for _, r := range msgs {
		out = append(out, []netlink.Message{r})
	}
	if errno != 0 || m.Header.Flags&netlink.Acknowledge != 0 {
		out = append(out, []netlink.Message{ack(m, errno)})
	}
	return out
}

func (k *Kernel) family(m netlink.Message, gm genetlink.Message) [][]netlink.Message {
	ad, err := netlink.NewAttributeDecoder(gm.Data)
	if err != nil {
		return [][]netlink.Message{{ack(m, unix.EINVAL)}}
	}
	var name string
	for ad.Next() {
		if ad.Type() == ctrlAttrFamilyName {
			name = ad.String()
		}
	}
	if name != "IPVS" || k.noIPVS {
		return [][]netlink.Message{{ack(m, unix.ENOENT)}}
	}
	ae := netlink.NewAttributeEncoder()
	ae.Uint16(ctrlAttrFamilyID, FamilyID)
	ae.String(ctrlAttrFamilyName, "IPVS")
	ae.Uint32(ctrlAttrVersion, 1)
	b, _ := ae.Encode()
	rm := genetlink.Message{Header: genetlink.Header{Command: ctrlCmdNewFamily, Version: 2}, Data: b}
	rb, _ := rm.MarshalBinary()
	return [][]netlink.Message{{{Header: netlink.Header{Type: genlIDCtrl, Sequence: m.Header.Sequence, PID: m.Header.PID}, Data: rb}}}
}

// attrs decodes one level of attributes.
func attrs(b []byte) (map[uint16][]byte, bool) {
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return nil, false
	}
	out := map[uint16][]byte{}
	for ad.Next() {
		out[ad.Type()] = slices.Clone(ad.Bytes())
	}
	return out, ad.Err() == nil
}

func u16(b []byte) uint16 {
	if len(b) < 2 {
		return 0
	}
	return binary.NativeEndian.Uint16(b)
}

func u32(b []byte) uint32 {
	if len(b) < 4 {
		return 0
	}
	return binary.NativeEndian.Uint32(b)
}

// addr16 normalizes an address attribute to the 16 bytes the kernel keeps.
func addr16(b []byte) []byte {
	out := make([]byte, 16)
	copy(out, b)
	return out
}

func svcKey(a map[uint16][]byte) (string, bool) {
	af := u16(a[1])
	if af != afInet && af != afInet6 {
		return "", false
	}
	if fw := a[5]; fw != nil {
		return string(binary.NativeEndian.AppendUint16(nil, af)) + "fw" + string(fw), true
	}
	if a[2] == nil || a[3] == nil || a[4] == nil {
		return "", false
	}
	return string(binary.NativeEndian.AppendUint16(nil, af)) + string(a[2]) + string(addr16(a[3])) + string(a[4]), true
}

func destKey(a map[uint16][]byte) string { return string(addr16(a[1])) + string(a[2]) }

func (k *Kernel) find(a map[uint16][]byte) (int, bool) {
	key, ok := svcKey(a)
	if !ok {
		return -1, false
	}
	for i, s := range k.services {
		if sk, _ := svcKey(s.attrs); sk == key {
			return i, true
		}
	}
	return -1, true
}

func (k *Kernel) command(m netlink.Message, gm genetlink.Message) ([]netlink.Message, unix.Errno) {
	top, ok := attrs(gm.Data)
	if !ok {
		return nil, unix.EINVAL
	}
	var sa, da map[uint16][]byte
	if b, ok := top[1]; ok {
		if sa, ok = attrs(b); !ok {
			return nil, unix.EINVAL
		}
	}
	if b, ok := top[2]; ok {
		if da, ok = attrs(b); !ok {
			return nil, unix.EINVAL
		}
	}
	cmd := gm.Header.Command
	switch cmd {
	case 4, 8, 11, 13, 15: // GET_*
	default:
		k.writes++
	}
	switch cmd {
	case 1, 2: // NEW_SERVICE, SET_SERVICE
		if sa == nil || sa[6] == nil || sa[7] == nil || sa[8] == nil || sa[9] == nil || len(sa[7]) != 8 {
			return nil, unix.EINVAL
		}
		i, valid := k.find(sa)
		if !valid {
			return nil, unix.EINVAL
		}
		if !k.schedulers[string(bytes.TrimRight(sa[6], "\x00"))] {
			return nil, unix.ENOENT
		}
		if cmd == 1 {
			if i >= 0 {
				return nil, unix.EEXIST
			}
			k.services = append(k.services, &service{attrs: sa})
			return nil, 0
		}
		if i < 0 {
			return nil, unix.ESRCH
		}
		for t, v := range sa {
			k.services[i].attrs[t] = v
		}
		if sa[11] == nil {
			delete(k.services[i].attrs, 11)
		}
		return nil, 0
	case 3: // DEL_SERVICE
		i, valid := k.find(sa)
		if !valid {
			return nil, unix.EINVAL
		}
		if i < 0 {
			return nil, unix.ESRCH
		}
		k.services = slices.Delete(k.services, i, i+1)
		return nil, 0
	case 4: // GET_SERVICE
		if m.Header.Flags&netlink.Dump == netlink.Dump {
			out := make([]netlink.Message, 0, len(k.services))
			for _, s := range k.services {
				out = append(out, reply(m, 1, encodeService(s)))
			}
			return out, 0
		}
		i, valid := k.find(sa)
		if !valid {
			return nil, unix.EINVAL
		}
		if i < 0 {
			return nil, unix.ESRCH
		}
		return []netlink.Message{reply(m, 1, encodeService(k.services[i]))}, 0
	case 5, 6, 7: // NEW_DEST, SET_DEST, DEL_DEST
		i, valid := k.find(sa)
		if !valid || da == nil || da[1] == nil || da[2] == nil {
			return nil, unix.EINVAL
		}
		if cmd != 7 && (da[3] == nil || da[4] == nil || da[5] == nil || da[6] == nil) {
			return nil, unix.EINVAL
		}
		if cmd != 7 && int32(u32(da[4])) < 0 {
			return nil, unix.ERANGE
		}
		if i < 0 {
			return nil, unix.ESRCH
		}
		s := k.services[i]
		j := slices.IndexFunc(s.dests, func(d map[uint16][]byte) bool { return destKey(d) == destKey(da) })
		switch {
		case cmd == 5 && j >= 0:
			return nil, unix.EEXIST
		case cmd == 5:
			s.dests = append(s.dests, da)
		case j < 0:
			return nil, unix.ENOENT
		case cmd == 6:
			for t, v := range da {
				s.dests[j][t] = v
			}
		default:
			s.dests = slices.Delete(s.dests, j, j+1)
		}
		return nil, 0
	case 8: // GET_DEST (dump)
		i, valid := k.find(sa)
		if !valid {
			return nil, unix.EINVAL
		}
		if i < 0 {
			return nil, 0
		}
		s := k.services[i]
		out := make([]netlink.Message, 0, len(s.dests))
		for _, d := range s.dests {
			out = append(out, reply(m, 5, encodeDest(s, d)))
		}
		return out, 0
	case 9: // NEW_DAEMON
		a, _ := attrs(top[3])
		if a == nil || a[1] == nil || a[2] == nil || a[3] == nil {
			return nil, unix.EINVAL
		}
		st := u32(a[1])
		if k.daemons[st] != nil {
			return nil, unix.EEXIST
		}
		k.daemons[st] = daemonDefaults(a)
		return nil, 0
	case 10: // DEL_DAEMON
		a, _ := attrs(top[3])
		if a == nil || a[1] == nil {
			return nil, unix.EINVAL
		}
		st := u32(a[1])
		if k.daemons[st] == nil {
			return nil, unix.ESRCH
		}
		delete(k.daemons, st)
		if k.stopUnanswered {
			k.stopUnanswered = false
			return nil, errUnanswered
		}
		return nil, 0
	case 11: // GET_DAEMON
		var out []netlink.Message
		for _, st := range []uint32{1, 2} {
			if a := k.daemons[st]; a != nil {
				out = append(out, reply(m, 9, nestAttrs(3, a)))
			}
		}
		return out, 0
	case 12: // SET_CONFIG
		for i, t := range []uint16{4, 5, 6} {
			if v := u32(top[t]); v != 0 {
				k.timeouts[i] = v
			}
		}
		return nil, 0
	case 13: // GET_CONFIG
		ae := netlink.NewAttributeEncoder()
		ae.Uint32(4, k.timeouts[0])
		ae.Uint32(5, k.timeouts[1])
		ae.Uint32(6, k.timeouts[2])
		b, _ := ae.Encode()
		return []netlink.Message{reply(m, 12, b)}, 0
	case 15: // GET_INFO
		ae := netlink.NewAttributeEncoder()
		ae.Uint32(1, 0x010201)
		ae.Uint32(2, 4096)
		b, _ := ae.Encode()
		return []netlink.Message{reply(m, 14, b)}, 0
	case 16: // ZERO
		if sa != nil {
			i, valid := k.find(sa)
			if !valid {
				return nil, unix.EINVAL
			}
			if i < 0 {
				return nil, unix.ESRCH
			}
		}
		return nil, 0
	case 17: // FLUSH
		k.services = nil
		return nil, 0
	}
	return nil, unix.EOPNOTSUPP
}

func nestAttrs(typ uint16, a map[uint16][]byte) []byte {
	ae := netlink.NewAttributeEncoder()
	ae.Nested(typ, func(ae *netlink.AttributeEncoder) error {
		for _, t := range slices.Sorted(mapsKeys(a)) {
			ae.Bytes(t, a[t])
		}
		return nil
	})
	b, _ := ae.Encode()
	return b
}

func mapsKeys(a map[uint16][]byte) iter.Seq[uint16] {
	return func(yield func(uint16) bool) {
		for k := range a {
			if !yield(k) {
				return
			}
		}
	}
}

func zeroStats(ae *netlink.AttributeEncoder, typ uint16, wide bool) {
	ae.Nested(typ, func(ae *netlink.AttributeEncoder) error {
		for t := uint16(1); t <= 10; t++ {
			if wide || t == 4 || t == 5 {
				ae.Uint64(t, 0)
			} else {
				ae.Uint32(t, 0)
			}
		}
		return nil
	})
}

// encodeService renders a service as the kernel's GET_SERVICE reply does.
func encodeService(s *service) []byte {
	a := s.attrs
	ae := netlink.NewAttributeEncoder()
	ae.Nested(1, func(ae *netlink.AttributeEncoder) error {
		ae.Bytes(1, a[1])
		if a[5] != nil {
			ae.Bytes(5, a[5])
		} else {
			ae.Bytes(2, a[2])
			ae.Bytes(3, addr16(a[3]))
			ae.Bytes(4, a[4])
		}
		ae.Bytes(6, a[6])
		if a[11] != nil {
			ae.Bytes(11, a[11])
		}
		flags := slices.Clone(a[7])
		binary.NativeEndian.PutUint32(flags, u32(flags)|0x2) // HASHED
		binary.NativeEndian.PutUint32(flags[4:], 0xffffffff)
		ae.Bytes(7, flags)
		ae.Bytes(8, a[8])
		ae.Bytes(9, a[9])
		zeroStats(ae, 10, false)
		zeroStats(ae, 12, true)
		return nil
	})
	b, _ := ae.Encode()
	return b
}

// encodeDest renders a destination as the kernel's GET_DEST reply does.
func encodeDest(s *service, d map[uint16][]byte) []byte {
	ae := netlink.NewAttributeEncoder()
	ae.Nested(2, func(ae *netlink.AttributeEncoder) error {
		ae.Bytes(1, addr16(d[1]))
		ae.Bytes(2, d[2])
		ae.Bytes(3, d[3])
		ae.Bytes(4, d[4])
		for _, t := range []uint16{13, 14, 15} {
			if d[t] != nil {
				ae.Bytes(t, d[t])
			}
		}
		ae.Bytes(5, d[5])
		ae.Bytes(6, d[6])
		ae.Uint32(7, 0)
		ae.Uint32(8, 0)
		ae.Uint32(9, 0)
		af := d[11]
		if af == nil {
			af = s.attrs[1]
		}
		ae.Bytes(11, af)
		zeroStats(ae, 10, false)
		zeroStats(ae, 12, true)
		return nil
	})
	b, _ := ae.Encode()
	return b
}

// daemonDefaults fills in what the kernel lists for a sync daemon started
// without the setting: maxlen 1472 (a 1500-byte MTU less the IPv4 and UDP
// headers), port 8848, TTL 1, group 224.0.0.81.
func daemonDefaults(a map[uint16][]byte) map[uint16][]byte {
	if a[4] == nil {
		a[4] = binary.NativeEndian.AppendUint16(nil, 1472)
	}
	if a[7] == nil {
		a[7] = binary.NativeEndian.AppendUint16(nil, 8848)
	}
	if a[8] == nil {
		a[8] = []byte{1}
	}
	if a[5] == nil && a[6] == nil {
		a[5] = []byte{224, 0, 0, 81}
	}
	return a
}

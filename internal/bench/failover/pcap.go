package main

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"
)

// event is an advert or a gratuitous ARP seen on the bridge.
type event struct {
	at   time.Time
	src  netip.Addr // advert: IP source; GARP: sender protocol address
	mac  string     // Ethernet source
	garp bool
	prio uint8 // advert priority
}

// parseCapture reads a classic pcap of Ethernet frames and returns the VRRP
// adverts and gratuitous ARPs in it.
func parseCapture(b []byte) ([]event, error) {
	if len(b) < 24 {
		return nil, fmt.Errorf("pcap: %d bytes, no header", len(b))
	}
	bo := binary.ByteOrder(binary.LittleEndian)
	var nano bool
	switch m := binary.LittleEndian.Uint32(b); m {
	case 0xa1b2c3d4:
	case 0xa1b23c4d:
		nano = true
	default:
		bo = binary.BigEndian
		switch binary.BigEndian.Uint32(b) {
		case 0xa1b2c3d4:
		case 0xa1b23c4d:
			nano = true
		default:
			return nil, fmt.Errorf("pcap: bad magic %x", b[:4])
		}
	}
	var out []event
	for off := 24; off+16 <= len(b); {
		sec, frac, incl := bo.Uint32(b[off:]), bo.Uint32(b[off+4:]), int(bo.Uint32(b[off+8:]))
		off += 16
		if off+incl > len(b) {
			break
		}
		d := b[off : off+incl]
		off += incl
		ns := int64(frac) * 1000
		if nano {
			ns = int64(frac)
		}
		at := time.Unix(int64(sec), ns)
		if len(d) < 42 {
			continue
		}
		mac := fmt.Sprintf("%x", d[6:12])
		switch binary.BigEndian.Uint16(d[12:]) {
		case 0x0800:
			ip := d[14:]
			hl := int(ip[0]&0x0f) * 4
			if ip[9] != 112 || len(ip) < hl+3 {
				continue
			}
			out = append(out, event{at: at, src: netip.AddrFrom4([4]byte(ip[12:16])), mac: mac, prio: ip[hl+2]})
		case 0x86dd:
			ip := d[14:]
			if len(ip) < 40+8 {
				continue
			}
			src := netip.AddrFrom16([16]byte(ip[8:24]))
			switch {
			case ip[6] == 112:
				out = append(out, event{at: at, src: src, mac: mac, prio: ip[40+2]})
			case ip[6] == 58 && ip[40] == 136 && len(ip) >= 40+24: // neighbour advertisement
				out = append(out, event{at: at, src: netip.AddrFrom16([16]byte(ip[48:64])), mac: mac, garp: true})
			}
		case 0x0806:
			a := d[14:]
			if string(a[14:18]) == string(a[24:28]) { // sender IP == target IP
				out = append(out, event{at: at, src: netip.AddrFrom4([4]byte(a[14:18])), mac: mac, garp: true})
			}
		}
	}
	return out, nil
}

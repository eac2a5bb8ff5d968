package healthcheck

import (
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// FuzzParseResponse feeds arbitrary datagrams to the DNS response parser:
// it must never panic, and whatever it accepts must unpack as a message
// that answers the query and packs again to a message with the same code.
func FuzzParseResponse(f *testing.F) {
	q := dnsmessage.Question{Name: dnsmessage.MustNewName("."), Type: dnsmessage.TypeSOA, Class: dnsmessage.ClassINET}
	query, err := buildQuery(0x4242, q)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(query)
	for _, rc := range []dnsmessage.RCode{dnsmessage.RCodeSuccess, dnsmessage.RCodeNameError} {
		m := dnsmessage.Message{Header: dnsmessage.Header{ID: 0x4242, Response: true, RCode: rc}, Questions: []dnsmessage.Question{q}}
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)-1])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rc, err := parseResponse(b, 0x4242, q)
		if err != nil {
			return
		}
		var m dnsmessage.Message
		if err := m.Unpack(b); err != nil {
			t.Fatalf("accepted a response that does not unpack: %v", err)
		}
		if m.ID != 0x4242 || !m.Response || m.RCode != rc {
			t.Fatalf("accepted %+v as a response to ID 0x4242 with code %v", m.Header, rc)
		}
		packed, err := m.Pack()
		if err != nil {
			return // dnsmessage packs less than it parses (e.g. unknown records)
		}
		var again dnsmessage.Message
		if err := again.Unpack(packed); err != nil || again.RCode != rc {
			t.Fatalf("round trip: %v, code %v, want %v", err, again.RCode, rc)
		}
	})
}

package healthcheck

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// DNS checks a DNS server over UDP, like keepalived's DNS_CHECK: it sends
// one query and is up when a well-formed response to that query, with an
// accepted response code, comes back within the timeout. Datagrams that are
// not the response (wrong ID, wrong question, malformed) are ignored.
type DNS struct {
	// Addr is the server IP:PORT.
	Addr netip.AddrPort
	// Timeout bounds the whole check; zero means DefaultTimeout.
	Timeout time.Duration
	// Name is the name queried; empty means the root ".".
	Name string
	// Type is the query type; zero means SOA.
	Type dnsmessage.Type
	// RCodes lists the accepted response codes; empty means NOERROR only.
	RCodes []dnsmessage.RCode
	Bind
}

func (d *DNS) question() (dnsmessage.Question, error) {
	name := d.Name
	if name == "" {
		name = "."
	}
	if !strings.HasSuffix(name, ".") {
		name += "."
	}
	n, err := dnsmessage.NewName(name)
	if err != nil {
		return dnsmessage.Question{}, fmt.Errorf("healthcheck: dns name %q: %w", d.Name, err)
	}
	typ := d.Type
	if typ == 0 {
		typ = dnsmessage.TypeSOA
	}
	return dnsmessage.Question{Name: n, Type: typ, Class: dnsmessage.ClassINET}, nil
}

// buildQuery packs a recursive-desired query with the given ID.
func buildQuery(id uint16, q dnsmessage.Question) ([]byte, error) {
	b := dnsmessage.NewBuilder(make([]byte, 0, 64), dnsmessage.Header{ID: id, RecursionDesired: true})
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	if err := b.Question(q); err != nil {
		return nil, err
	}
	return b.Finish()
}

var errNotOurs = errors.New("not a response to the query")

// parseResponse checks that msg is a well-formed response to query id/q and
// returns its response code.
func parseResponse(msg []byte, id uint16, q dnsmessage.Question) (dnsmessage.RCode, error) {
	var p dnsmessage.Parser
	h, err := p.Start(msg)
	if err != nil {
		return 0, fmt.Errorf("malformed response: %w", err)
	}
	if h.ID != id || !h.Response {
		return 0, errNotOurs
	}
	qs, err := p.AllQuestions()
	if err != nil {
		return 0, fmt.Errorf("malformed response: %w", err)
	}
	if len(qs) != 1 || !strings.EqualFold(qs[0].Name.String(), q.Name.String()) || qs[0].Type != q.Type || qs[0].Class != q.Class {
		return 0, errNotOurs
	}
	// Walk every record so that a truncated or corrupt answer is rejected.
	if _, err := p.AllAnswers(); err != nil {
		return 0, fmt.Errorf("malformed answer: %w", err)
	}
	if _, err := p.AllAuthorities(); err != nil {
		return 0, fmt.Errorf("malformed authority: %w", err)
	}
	if _, err := p.AllAdditionals(); err != nil {
		return 0, fmt.Errorf("malformed additional: %w", err)
	}
	return h.RCode, nil
}

// Check implements Checker.
func (d *DNS) Check(ctx context.Context) Result {
	if err := checkAddr("dns address", d.Addr); err != nil {
		return Result{Reason: err.Error(), Err: err}
	}
	q, err := d.question()
	if err != nil {
		return Result{Reason: err.Error(), Err: err}
	}
	id := uint16(rand.Uint32())
	query, err := buildQuery(id, q)
	if err != nil {
		err = fmt.Errorf("healthcheck: dns name %q: %w", d.Name, err)
		return Result{Reason: err.Error(), Err: err}
	}
	ctx, cancel, timeout := withTimeout(ctx, d.Timeout)
	defer cancel()
	conn, err := d.Bind.dialUDP(ctx, d.Addr)
	if err != nil {
		return down(ctx, "connect", err, timeout)
	}
	defer conn.Close()
	if _, err := conn.Write(query); err != nil {
		return udpDown(ctx, "send query", err, timeout)
	}
	buf := make([]byte, 4096)
	var ignored error
	for {
		n, err := conn.ReadUntil(buf, time.Time{})
		if err != nil {
			r := udpDown(ctx, "read response", err, timeout)
			if ignored != nil {
				r.Reason += " (ignored: " + ignored.Error() + ")"
			}
			return r
		}
		rcode, err := parseResponse(buf[:n], id, q)
		if err != nil {
			ignored = err
			continue
		}
		if !rcodeAccepted(rcode, d.RCodes) {
			return Result{Reason: "response code " + rcodeName(rcode)}
		}
		return up("response code " + rcodeName(rcode))
	}
}

func rcodeAccepted(rc dnsmessage.RCode, accepted []dnsmessage.RCode) bool {
	if len(accepted) == 0 {
		return rc == dnsmessage.RCodeSuccess
	}
	for _, a := range accepted {
		if a == rc {
			return true
		}
	}
	return false
}

var rcodeNames = map[dnsmessage.RCode]string{
	dnsmessage.RCodeSuccess:        "NOERROR",
	dnsmessage.RCodeFormatError:    "FORMERR",
	dnsmessage.RCodeServerFailure:  "SERVFAIL",
	dnsmessage.RCodeNameError:      "NXDOMAIN",
	dnsmessage.RCodeNotImplemented: "NOTIMP",
	dnsmessage.RCodeRefused:        "REFUSED",
}

func rcodeName(rc dnsmessage.RCode) string {
	if s, ok := rcodeNames[rc]; ok {
		return s
	}
	return fmt.Sprintf("RCODE%d", int(rc))
}

// ParseRCode parses a response code name (NOERROR, NXDOMAIN, ...) or number.
func ParseRCode(s string) (dnsmessage.RCode, error) {
	for rc, name := range rcodeNames {
		if strings.EqualFold(s, name) {
			return rc, nil
		}
	}
	var n int
	if _, err := fmt.Sscanf(s, "%d", &n); err == nil && n >= 0 && n < 16 && fmt.Sprint(n) == s {
		return dnsmessage.RCode(n), nil
	}
	return 0, fmt.Errorf("healthcheck: dns rcode %q: want NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, REFUSED or 0-15", s)
}

// ParseType parses a query type name such as "A", "AAAA", "SOA", "NS".
func ParseType(s string) (dnsmessage.Type, error) {
	for _, t := range []dnsmessage.Type{dnsmessage.TypeA, dnsmessage.TypeNS, dnsmessage.TypeCNAME,
		dnsmessage.TypeSOA, dnsmessage.TypePTR, dnsmessage.TypeMX, dnsmessage.TypeTXT,
		dnsmessage.TypeAAAA, dnsmessage.TypeSRV} {
		if strings.EqualFold(s, strings.TrimPrefix(t.String(), "Type")) {
			return t, nil
		}
	}
	return 0, fmt.Errorf("healthcheck: dns type %q: want A, AAAA, NS, CNAME, SOA, PTR, MX, TXT or SRV", s)
}

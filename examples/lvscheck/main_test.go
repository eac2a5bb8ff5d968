package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// serveDNS answers every query on pc with NOERROR (NXDOMAIN for names
// other than the root) until the test ends.
func serveDNS(t *testing.T, pc net.PacketConn) string {
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var q dnsmessage.Message
			if q.Unpack(buf[:n]) != nil {
				continue
			}
			q.Response = true
			if len(q.Questions) == 1 && q.Questions[0].Name.String() != "." {
				q.RCode = dnsmessage.RCodeNameError
			}
			if b, err := q.Pack(); err == nil {
				pc.WriteTo(b, from)
			}
		}
	}()
	return pc.LocalAddr().String()
}

func closedAddr(t *testing.T, network string) string {
	var addr string
	if network == "tcp" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr = ln.Addr().String()
		ln.Close()
	} else {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr = pc.LocalAddr().String()
		pc.Close()
	}
	return addr
}

func TestRun(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("+OK ready\r\n"))
			c.Close()
		}
	}()
	tcpOpen := ln.Addr().String()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dns := serveDNS(t, pc)
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fail" {
			http.Error(w, "no", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, "host=%s", r.Host)
	}))
	defer web.Close()
	webAddr := strings.TrimPrefix(web.URL, "http://")
	tcpClosed, udpClosed := closedAddr(t, "tcp"), closedAddr(t, "udp")

	tests := []struct {
		name string
		args []string
		code int
		out  string // regexp the output must match
	}{
		{"tcp open", []string{"tcp", tcpOpen}, 0, `^tcp \S+: up: connected \(.*\)\n$`},
		{"tcp closed", []string{"-timeout", "2s", "tcp", tcpClosed}, 1, `down: connect: connection refused`},
		{"tcp expect with escapes", []string{"tcp", "-expect", `+OK ready\r\n`, tcpOpen}, 0, `up: reply matched`},
		{"udp closed port, as nc -zn -u", []string{"-timeout", "2s", "udp", udpClosed}, 1, `down: port unreachable \(ICMP\)`},
		{"udp DNS responder", []string{"udp", "-wait", "100ms", dns}, 0, `up: no reply and no ICMP error`},
		{"dns root SOA", []string{"dns", dns}, 0, `up: response code NOERROR`},
		{"dns NXDOMAIN", []string{"dns", "-name", "nope.lvskit.test", dns}, 1, `down: response code NXDOMAIN`},
		{"dns NXDOMAIN accepted", []string{"dns", "-name", "nope.lvskit.test", "-rcode", "NOERROR,NXDOMAIN", dns}, 0, `up: response code NXDOMAIN`},
		{"http IP:PORT", []string{"http", webAddr}, 0, `up: status 200`},
		{"http URL with host and body", []string{"http", "-host", "www.lvskit.test", "-body", "host=www", web.URL + "/x"}, 0, `up: status 200`},
		{"http 503", []string{"http", web.URL + "/fail"}, 1, `down: status 503`},
		{"http 503 accepted", []string{"-status", "200,503", "http", web.URL + "/fail"}, 0, `up: status 503`},
		{"several targets, one down", []string{"tcp", tcpOpen, tcpClosed}, 1, `(?s)up: connected.*down: connect`},
		{"quiet", []string{"-q", "tcp", tcpOpen}, 0, `^$`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), tt.args, &out, &errOut)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stdout %q stderr %q", code, tt.code, out.String(), errOut.String())
			}
			if !regexp.MustCompile(tt.out).MatchString(out.String()) {
				t.Errorf("stdout %q does not match %q", out.String(), tt.out)
			}
		})
	}
}

func TestRunUsage(t *testing.T) {
	tests := []struct {
		args []string
		msg  string
	}{
		{nil, "want a kind and at least one target"},
		{[]string{"tcp"}, "want a kind and at least one target"},
		{[]string{"icmp", "1.2.3.4:1"}, `kind "icmp": want tcp, udp, http, https or dns`},
		{[]string{"tcp", "1.2.3.4"}, `target "1.2.3.4": want IP:PORT`},
		{[]string{"tcp", "1.2.3.4:0"}, `target "1.2.3.4:0": want IP:PORT`},
		{[]string{"-timeout", "0s", "tcp", "127.0.0.1:1"}, "-timeout 0s: want a positive duration"},
		{[]string{"-timeout", "soon", "tcp", "127.0.0.1:1"}, `invalid value "soon" for flag -timeout`},
		{[]string{"tcp", "-status", "200", "127.0.0.1:1"}, "flag -status does not apply to tcp checks"},
		{[]string{"http", "-status", "2xx", "127.0.0.1:80"}, `-status: healthcheck: status range "2xx"`},
		{[]string{"https", "http://127.0.0.1/"}, `target "http://127.0.0.1/": want IP:PORT or a https:// URL`},
		{[]string{"-source", "me", "udp", "127.0.0.1:53"}, `-source "me": want an IP address`},
		{[]string{"dns", "-type", "WKS", "127.0.0.1:53"}, `-type: healthcheck: dns type "WKS"`},
		{[]string{"dns", "-rcode", "OK", "127.0.0.1:53"}, `-rcode: healthcheck: dns rcode "OK"`},
		{[]string{"-nope", "tcp", "127.0.0.1:1"}, "flag provided but not defined: -nope"},
		{[]string{"-h"}, "usage: lvscheck"},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), tt.args, &out, &errOut); code != 2 {
			t.Errorf("run(%q) = %d, want 2 (usage)", tt.args, code)
		}
		if !strings.Contains(errOut.String(), tt.msg) {
			t.Errorf("run(%q) stderr %q, want it to contain %q", tt.args, errOut.String(), tt.msg)
		}
		if out.Len() != 0 {
			t.Errorf("run(%q) wrote %q to stdout on a usage error", tt.args, out.String())
		}
	}
}

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckRefusesBadBGP pins that lbnode -check refuses a bad bgp
// section with the file, the line and the field, and exits 1.
func TestCheckRefusesBadBGP(t *testing.T) {
	const head = `virtual_servers:
  - address: 192.168.100.1:80
    protocol: TCP
    lb_algo: mh
    lb_kind: DR
    real_servers:
      - address: 10.0.0.101:80
bgp:
  asn: 65001
  router_id: 10.0.0.11
  neighbors:
    - address: 10.0.0.1
`
	tests := []struct {
		name, tail, want string
	}{
		{"unknown neighbor field", "      asn: 65000\n      password: secret\n  announce:\n    - 192.168.100.1/32\n", ":14: password: unknown field"},
		{"ASN out of range", "      asn: 4294967296\n  announce:\n    - 192.168.100.1/32\n", `:13: bgp.neighbors[0].asn: "4294967296" is not an AS number 1-4294967295`},
		{"not a host route", "      asn: 65000\n  announce:\n    - 192.168.100.0/24\n", `:15: bgp.announce[0]: "192.168.100.0/24" is not a host route (/32)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "node.yaml")
			if err := os.WriteFile(p, []byte(head+tt.tail), 0o644); err != nil {
				t.Fatal(err)
			}
			var out, errb bytes.Buffer
			if code := run([]string{"-f", p, "-check"}, &out, &errb); code != 1 {
				t.Fatalf("exit %d, want 1; stdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
			}
			if want := p + tt.want; !strings.Contains(errb.String(), want) {
				t.Errorf("stderr lacks %q:\n%s", want, errb.String())
			}
		})
	}
}

package agent

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lvskit/lvskit/healthcheck"
	"github.com/lvskit/lvskit/internal/config"
)

const checkOptsConf = `
virtual_server 192.168.0.100 443 {
  protocol TCP
  virtualhost vs.example
  real_server 172.16.0.1 443 {
    virtualhost rs.example
    SSL_GET {
      bindto 172.16.0.9
      bind_port 4000
      fwmark 42
      http_protocol 1.1
      enable_sni
      url {
        path /health
        regex "\\d+ OK$"
        regex_no_match
        regex_min_offset 2
        regex_max_offset 100
      }
      url {
        path /other
        virtualhost url.example
      }
    }
    HTTP_GET {
      url {
        path /
      }
    }
  }
  real_server 172.16.0.2 53 {
    UDP_CHECK {
      payload 0102
      require_reply 4f Xx
      min_reply_length 2
      max_reply_length 10
    }
    UDP_CHECK {
      fwmark 7
    }
    MISC_CHECK {
      misc_path /bin/true
      user nobody
    }
  }
}
`

// The checker keywords reach the checkers: source port and mark, the
// request of http_protocol with keepalived's User-Agent, SNI only with
// enable_sni (from the url's or the checker's, else the virtual
// server's virtual host, never the real server's), the regex, the UDP
// payload and reply, and a MISC_CHECK's own user.
func TestCheckerOptionsMapping(t *testing.T) {
	cfg, err := config.ParseKeepalived("k.conf", []byte(checkOptsConf))
	if err != nil {
		t.Fatal(err)
	}
	misc := &cfg.VirtualServers[0].RealServers[1].Checkers[2]
	misc.MiscIdentity = config.ScriptIdentity{User: "nobody", UID: 65534, GID: 65534}
	if _, err := ipvsPlan(cfg); err != nil {
		t.Fatal(err)
	}
	var https, http []*healthcheck.HTTP
	var udps []*healthcheck.UDP
	var execs []*healthcheck.Exec
	walk := func(c healthcheck.Checker) {
		switch c := c.(type) {
		case *healthcheck.HTTP:
			http = append(http, c)
		case *healthcheck.UDP:
			udps = append(udps, c)
		case *healthcheck.Exec:
			execs = append(execs, c)
		}
	}
	rs0, rs1 := &cfg.VirtualServers[0].RealServers[0], &cfg.VirtualServers[0].RealServers[1]
	for _, c := range rs0.Checkers {
		ck, _, err := checker(&cfg.VirtualServers[0], rs0, &c, nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.Kind == config.SSLGet {
			// Two urls: one HTTP checker each, as checker builds them.
			for _, u := range c.URLs {
				h, err := httpChecker("https://172.16.0.1:443"+u.Path, 0, healthcheck.Bind{}, &c, &u)
				if err != nil {
					t.Fatal(err)
				}
				https = append(https, h)
			}
			continue
		}
		walk(ck)
	}
	for _, c := range rs1.Checkers {
		ck, _, err := checker(&cfg.VirtualServers[0], rs1, &c, nil)
		if err != nil {
			t.Fatal(err)
		}
		walk(ck)
	}
	if len(https) != 2 || len(http) != 1 || len(udps) != 2 || len(execs) != 1 {
		t.Fatalf("got %d SSL_GET urls, %d HTTP_GET, %d UDP_CHECK, %d MISC_CHECK", len(https), len(http), len(udps), len(execs))
	}
	type httpView struct {
		Protocol, UserAgent, Host, ServerName string
		NoSNI, BodyNoMatch, BodyBytes         bool
		Body                                  string
		BodyFrom, BodyTo                      int
	}
	view := func(h *healthcheck.HTTP) httpView {
		v := httpView{h.Protocol, h.UserAgent, h.Host, h.ServerName, h.NoSNI, h.BodyNoMatch, h.BodyBytes, "", h.BodyFrom, h.BodyTo}
		if h.Body != nil {
			v.Body = h.Body.String()
		}
		return v
	}
	for i, want := range []httpView{
		{"1.1", "KeepAliveClient", "rs.example", "vs.example", true, true, true, `[0-9]+ OK\n?\z`, 2, 101},
		{"1.1", "KeepAliveClient", "url.example", "url.example", true, false, false, "", 0, 0},
	} {
		if diff := cmp.Diff(want, view(https[i])); diff != "" {
			t.Errorf("SSL_GET url %d (-want +got):\n%s", i, diff)
		}
	}
	if diff := cmp.Diff(httpView{Protocol: "1.0", UserAgent: "KeepAliveClient", Host: "rs.example", NoSNI: true}, view(http[0])); diff != "" {
		t.Errorf("HTTP_GET (-want +got):\n%s", diff)
	}
	// The source and mark reach the checkers' binding.
	if want := (healthcheck.Bind{SourcePort: 0, Mark: 7}); udps[1].Bind != want {
		t.Errorf("UDP_CHECK binding %+v, want %+v", udps[1].Bind, want)
	}
	tcp, _, err := checker(&cfg.VirtualServers[0], rs0, &config.Checker{Kind: config.TCPCheck, BindTo: netip.MustParseAddr("172.16.0.9"), BindPort: 4000, FWMark: 42}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := (healthcheck.Bind{Source: netip.MustParseAddr("172.16.0.9"), SourcePort: 4000, Mark: 42}); tcp.(*healthcheck.TCP).Bind != want {
		t.Errorf("TCP_CHECK binding %+v, want %+v", tcp.(*healthcheck.TCP).Bind, want)
	}
	if c := rs0.Checkers[0]; c.BindPort != 4000 || c.FWMark != 42 {
		t.Errorf("SSL_GET read with bind_port %d, fwmark %d", c.BindPort, c.FWMark)
	}
	if diff := cmp.Diff(&healthcheck.UDPReply{Data: []byte{0x4f, 0}, Mask: []byte{0, 0xff}, MinLen: 2, MaxLen: 10}, udps[0].Reply); diff != "" || string(udps[0].Payload) != "\x01\x02" {
		t.Errorf("UDP_CHECK payload %x, reply (-want +got):\n%s", udps[0].Payload, diff)
	}
	if udps[1].Reply != nil || string(udps[1].Payload) != "keepalived check - keepalived ch" || udps[1].Bind.Mark != 7 {
		t.Errorf("UDP_CHECK without options: %+v, want keepalived's 32-byte payload, no reply needed, mark 7", udps[1])
	}
	if got := fmt.Sprintf("%+v", execs[0].Credential); got != "&{Uid:65534 Gid:65534 Groups:[65534] NoSetGroups:false}" {
		t.Errorf("MISC_CHECK user nobody: credential %s", got)
	}
}

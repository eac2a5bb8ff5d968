package agent

import (
	"context"
	"testing"
	"time"

	"github.com/lvskit/lvskit/internal/config"
	"github.com/lvskit/lvskit/internal/testenv/netnstest"
)

// A MISC_CHECK's user runs its program as that user, whatever the
// script_user: the program succeeds only as nobody.
func TestIntegrationMiscCheckUser(t *testing.T) {
	netnstest.RequirePrivileged(t)
	const conf = `
global_defs {
  script_user root
}
virtual_server 192.168.0.100 80 {
  protocol TCP
  real_server 172.16.0.1 80 {
    MISC_CHECK {
      misc_path "/bin/sh -c 'test $(id -un):$(id -gn) = nobody:nogroup'"
      user nobody nogroup
    }
    MISC_CHECK {
      misc_path "/bin/sh -c 'test $(id -u) = 0'"
    }
  }
}
`
	cfg, err := config.ParseKeepalived("k.conf", []byte(conf))
	if err != nil {
		t.Fatal(err)
	}
	if err := config.ResolveScripts(cfg); err != nil {
		t.Fatal(err)
	}
	vs := &cfg.VirtualServers[0]
	rs := &vs.RealServers[0]
	for i := range rs.Checkers {
		ck, _, err := checker(vs, rs, &rs.Checkers[i], cfg.Global.Script.Credential())
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		r := ck.Check(ctx)
		cancel()
		if !r.Up {
			t.Errorf("MISC_CHECK %d: %v, want up", i, r)
		}
	}
}

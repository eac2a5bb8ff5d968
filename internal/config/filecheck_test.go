package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const fileCheckConf = `track_file maint {
  file /run/lvskit/maint
  weight 0
}
track_file load {
  file /run/lvskit/load
  weight -10 reverse
}
virtual_server 192.168.0.100 80 {
  lb_algo rr
  lb_kind DR
  protocol TCP
  real_server 10.0.0.1 80 {
    weight 100
    FILE_CHECK {
      track_file maint
    }
    FILE_CHECK {
      weight 5
      track_file load
    }
    TCP_CHECK {
      connect_timeout 3
    }
  }
  real_server 10.0.0.2 80 {
    FILE_CHECK {
      track_file load
      weight -3 noreverse
    }
    FILE_CHECK {
      track_file maint
      weight 2147483647 reverse
    }
  }
}
`

func TestParseKeepalivedFileCheck(t *testing.T) {
	c, err := parseKeepalived("k.conf", []byte(fileCheckConf), mapFS{})
	if err != nil {
		t.Fatal(err)
	}
	at := func(line int) Pos { return Pos{File: "k.conf", Line: line} }
	rs := c.VirtualServers[0].RealServers
	want := [][]FileCheck{
		// The track_file's weight and direction, or the FILE_CHECK's own
		// wherever it is written in the block.
		{{Pos: at(15), Name: "maint", Weight: 0}, {Pos: at(18), Name: "load", Weight: 5}},
		{{Pos: at(27), Name: "load", Weight: -3}, {Pos: at(31), Name: "maint", Weight: 2147483647, Reverse: true}},
	}
	for i := range want {
		if diff := cmp.Diff(want[i], rs[i].FileChecks, cmpOpts...); diff != "" {
			t.Errorf("real server %d FileChecks (-want +got):\n%s", i, diff)
		}
	}
	if len(rs[0].Checkers) != 1 || len(rs[1].Checkers) != 0 {
		t.Errorf("checkers %d and %d, want the TCP_CHECK only (1 and 0)", len(rs[0].Checkers), len(rs[1].Checkers))
	}
}

func TestParseKeepalivedFileCheckErrors(t *testing.T) {
	file := "track_file f {\n  file /tmp/f\n}\n"
	vs := func(body string) string {
		return "virtual_server 192.168.0.100 80 {\n  lb_kind DR\n  real_server 10.0.0.1 80 {\n" + body + "  }\n}\n"
	}
	tests := []struct {
		name, src, want string
	}{
		{"file after the virtual server", vs("    FILE_CHECK {\n      track_file f\n    }\n") + file, "k.conf:5: track_file: track_file f not found"},
		{"no track_file", file + vs("    FILE_CHECK {\n      weight 2\n    }\n"), "k.conf:7: FILE_CHECK: FILE_CHECK has no track_file"},
		{"weight out of range", file + vs("    FILE_CHECK {\n      track_file f\n      weight 2147483648\n    }\n"), `k.conf:9: weight: weight "2147483648" is not a number`},
		{"bad weight option", file + vs("    FILE_CHECK {\n      track_file f\n      weight 2 backwards\n    }\n"), `k.conf:9: weight: "2 backwards": want weight N [reverse|noreverse]`},
		{"unknown", file + vs("    FILE_CHECK {\n      track_file f\n      interval 2\n    }\n"), "k.conf:9: interval: not supported in FILE_CHECK: keepalived 2.2.7 knows this keyword, and lbnode does not read it here"},
		{"not a block", file + vs("    FILE_CHECK f\n"), "k.conf:7: FILE_CHECK: must be a block"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseKeepalived("k.conf", []byte(tt.src), mapFS{})
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
			if !strings.HasPrefix(es[0].Error(), tt.want) {
				t.Errorf("first error:\n got %q\nwant %q...", es[0].Error(), tt.want)
			}
		})
	}
}

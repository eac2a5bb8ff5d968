package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestParseYAMLSchedFlags reads sched_flags and ops into the same fields
// the keepalived.conf keywords set.
func TestParseYAMLSchedFlags(t *testing.T) {
	src := `virtual_servers:
  - address: 192.168.100.1:80
    protocol: TCP
    lb_algo: mh
    sched_flags: [mh-port, mh-fallback]
    lb_kind: DR
    real_servers:
      - address: 10.1.0.1:80
  - address: 192.168.100.1:53
    protocol: UDP
    lb_algo: sh
    sched_flags: sh-port
    ops: true
    lb_kind: DR
    real_servers:
      - address: 10.1.0.1:53
  - fwmark: 7
    lb_algo: rr
    sched_flags:
      - flag-3
    ops: true
    lb_kind: DR
    real_servers:
      - address: 10.1.0.1
`
	cfg, err := ParseYAML("n.yaml", []byte(src))
	if err != nil {
		t.Fatalf("ParseYAML: %v", err)
	}
	type flags struct {
		Sched SchedFlags
		OPS   bool
	}
	var got []flags
	for _, vs := range cfg.VirtualServers {
		got = append(got, flags{vs.SchedFlags, vs.OnePacket})
	}
	want := []flags{{SchedFlag1 | SchedFlag2, false}, {SchedFlag2, true}, {SchedFlag3, true}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("flags (-want +got):\n%s", diff)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("warnings: %v", cfg.Warnings)
	}
}

// TestParseYAMLSchedFlagsErrors pins that a bad flag is refused with the
// file, the line and the field, and that nothing is returned.
func TestParseYAMLSchedFlagsErrors(t *testing.T) {
	vs := func(proto, algo, extra string) string {
		return "virtual_servers:\n  - address: 192.168.100.1:80\n    protocol: " + proto + "\n    lb_algo: " + algo + "\n" + extra +
			"    real_servers:\n      - address: 10.1.0.1:80\n"
	}
	for _, tc := range []struct {
		name, src, want string
	}{
		{"unknown flag", vs("TCP", "mh", "    sched_flags: [mh-port, mh-sticky]\n"),
			`n.yaml:5: virtual_servers[0].sched_flags[1]: "mh-sticky" is not a scheduler flag (flag-1, flag-2, flag-3, sh-port, sh-fallback, mh-port, mh-fallback)`},
		{"sh flag with mh", vs("TCP", "mh", "    sched_flags:\n      - sh-port\n"),
			`n.yaml:6: virtual_servers[0].sched_flags[0]: sh-port applies to the sh scheduler only, not mh`},
		{"mh flag with the default scheduler", vs("TCP", "wlc", "    sched_flags: [mh-fallback]\n"),
			`n.yaml:5: virtual_servers[0].sched_flags[0]: mh-fallback applies to the mh scheduler only, not wlc`},
		{"one bit twice", vs("TCP", "mh", "    sched_flags: [mh-port, flag-2]\n"),
			`n.yaml:5: virtual_servers[0].sched_flags[1]: "flag-2" sets a flag set already (mh-port)`},
		{"a mapping", vs("TCP", "mh", "    sched_flags: {mh-port: true}\n"),
			`n.yaml:5: virtual_servers[0].sched_flags: want a list`},
		{"ops with TCP", vs("TCP", "mh", "    ops: true\n"),
			`n.yaml:5: virtual_servers[0].ops: one-packet scheduling requires protocol UDP, not TCP`},
		{"ops not a boolean", vs("UDP", "mh", "    ops: yes please\n"),
			`n.yaml:5: virtual_servers[0].ops: "yes please" is not true or false`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := ParseYAML("n.yaml", []byte(tc.src))
			if err == nil {
				t.Fatalf("ParseYAML accepted:\n%s", tc.src)
			}
			if cfg != nil {
				t.Errorf("ParseYAML returned a Config with the error %v", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error\n%v\ndoes not contain\n%s", err, tc.want)
			}
		})
	}
}

package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestOptionsCheck(t *testing.T) {
	good := options{impls: []string{"lbnode", "keepalived"}, faults: allFaults, settle: 20 * time.Second, hold: 10 * time.Second, timeout: time.Minute}
	tests := []struct {
		name    string
		change  func(*options)
		nargs   int
		wantErr bool
	}{
		{"defaults", func(*options) {}, 0, false},
		{"lbnode alone, two faults", func(o *options) { o.impls, o.faults = []string{"lbnode"}, []string{"cut", "partition"} }, 0, false},
		{"argument", func(*options) {}, 1, true},
		{"unknown daemon", func(o *options) { o.impls = []string{"lbnode", "vrrpd"} }, 0, true},
		{"unknown fault", func(o *options) { o.faults = []string{"partition", "meteor"} }, 0, true},
		{"settle too short", func(o *options) { o.settle = time.Second }, 0, true},
		{"no hold", func(o *options) { o.hold = 0 }, 0, true},
		{"no timeout", func(o *options) { o.timeout = 0 }, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := good
			tt.change(&o)
			if err := o.check(tt.nargs); (err != nil) != tt.wantErr {
				t.Errorf("check: %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	for _, args := range [][]string{{"-faults", "nope"}, {"-impl", ""}, {"extra"}, {"-settle", "x"}} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 2 {
			t.Errorf("run(%q) = %d, want 2; stderr: %s", args, code, errb.String())
		}
		if errb.Len() == 0 || strings.Contains(out.String(), "building") {
			t.Errorf("run(%q): stderr %q, stdout %q", args, errb.String(), out.String())
		}
	}
}

package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const trackFileConf = `track_file maint {
  file /run/lvskit/maint
  weight 0
}
vrrp_track_file prio {
  file "/run/lvskit/prio"
  weight -10 reverse
  init_file 5 overwrite
}
track_file plain {
  file /run/lvskit/plain
  init_file
}
vrrp_instance VI_1 {
  interface eth1
  virtual_router_id 7
  priority 100
  virtual_ipaddress {
    10.0.0.1
  }
  track_file {
    maint
    prio weight 3 noreverse
    plain weight -2 reverse
  }
}
vrrp_instance VI_2 {
  interface eth1
  virtual_router_id 8
  priority 255
  virtual_ipaddress {
    10.0.0.2
  }
  track_file {
    plain
    prio
    maint
  }
}
`

func TestParseKeepalivedTrackFile(t *testing.T) {
	c, err := parseKeepalived("k.conf", []byte(trackFileConf), mapFS{})
	if err != nil {
		t.Fatal(err)
	}
	at := func(line int) Pos { return Pos{File: "k.conf", Line: line} }
	wantFiles := []TrackedFile{
		{Pos: at(1), Name: "maint", Path: "/run/lvskit/maint", Weight: 0},
		{Pos: at(5), Name: "prio", Path: "/run/lvskit/prio", Weight: -10, Reverse: true, Init: true, InitValue: 5, InitOverwrite: true},
		{Pos: at(10), Name: "plain", Path: "/run/lvskit/plain", Weight: 1, Init: true},
	}
	if diff := cmp.Diff(wantFiles, c.TrackedFiles, cmpOpts...); diff != "" {
		t.Errorf("TrackedFiles (-want +got):\n%s", diff)
	}
	want1 := []TrackFile{
		{Pos: at(22), Name: "maint", Weight: 0},
		{Pos: at(23), Name: "prio", Weight: 3},
		{Pos: at(24), Name: "plain", Weight: -2, Reverse: true},
	}
	if diff := cmp.Diff(want1, c.VRRP[0].TrackFiles, cmpOpts...); diff != "" {
		t.Errorf("VI_1 TrackFiles (-want +got):\n%s", diff)
	}
	// The address owner: the default weight 1 becomes 0, another weight
	// is dropped, weight 0 stays; each change a warning, as keepalived.
	want2 := []TrackFile{
		{Pos: at(35), Name: "plain", Weight: 0},
		{Pos: at(37), Name: "maint", Weight: 0},
	}
	if diff := cmp.Diff(want2, c.VRRP[1].TrackFiles, cmpOpts...); diff != "" {
		t.Errorf("VI_2 TrackFiles (-want +got):\n%s", diff)
	}
	var warns []string
	for _, w := range c.Warnings {
		warns = append(warns, w.String())
	}
	for _, want := range []string{
		"k.conf:5: vrrp_track_file: deprecated: keepalived reads it as track_file",
		"k.conf:35: track_file: plain: tracked with weight 0 instead of the default 1 (address owner)",
		"k.conf:36: track_file: prio: not tracked: weight -10 (address owner)",
	} {
		if !containsPrefix(warns, want) {
			t.Errorf("no warning %q in:\n%s", want, strings.Join(warns, "\n"))
		}
	}
}

func containsPrefix(ss []string, prefix string) bool {
	for _, s := range ss {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

func TestParseKeepalivedTrackFileErrors(t *testing.T) {
	file := "track_file f {\n  file /tmp/f\n}\n"
	inst := func(body string) string {
		return "vrrp_instance VI_1 {\n  interface eth1\n  virtual_router_id 7\n  virtual_ipaddress {\n    10.0.0.1\n  }\n" + body + "}\n"
	}
	tests := []struct {
		name, src, want string
	}{
		{"file after the instance", inst("  track_file {\n    f\n  }\n") + file, `k.conf:8: track_file: no track_file "f" defined before this line (keepalived 2.2.7 ignores the line)`},
		{"tracked twice", file + inst("  track_file {\n    f\n    f weight 2\n  }\n"), "k.conf:12: track_file: f is tracked twice"},
		{"weight 255", file + inst("  track_file {\n    f weight 255\n  }\n"), `k.conf:11: track_file: f: weight "255" is not a number -254-254`},
		{"bad weight option", file + inst("  track_file {\n    f weight 2 backwards\n  }\n"), `k.conf:11: track_file: f: "2 backwards": want weight N [reverse|noreverse]`},
		{"bad option", file + inst("  track_file {\n    f weigth 2\n  }\n"), `k.conf:11: track_file: "f weigth 2": want NAME [weight N [reverse|noreverse]]`},
		{"no file", "track_file f {\n  weight 2\n}\n", "k.conf:1: track_file: f: no file"},
		{"two files", "track_file f {\n  file /a\n  file /b\n}\n", "k.conf:3: file: file already set for track_file f"},
		{"block weight noreverse", "track_file f {\n  file /a\n  weight 2 noreverse\n}\n", `k.conf:3: weight: "2 noreverse": want weight N [reverse]`},
		{"block weight -255", "track_file f {\n  file /a\n  weight -255\n}\n", `k.conf:3: weight: weight "-255" is not a number -254-254`},
		{"init option", "track_file f {\n  file /a\n  init_file create\n}\n", `k.conf:3: init_file: unknown init_file option "create"`},
		{"unknown", "track_file f {\n  file /a\n  interval 2\n}\n", "k.conf:3: interval: not supported in track_file: keepalived 2.2.7 knows this keyword, and lbnode does not read it here"},
		{"defined twice", file + file, `k.conf:4: track_file: "f" is defined twice (first at k.conf:1)`},
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

// The file's text is read as keepalived reads it, with strtol(buf, NULL, 0).
func TestParseTrackFileValue(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"", 0, true},
		{"0\n", 0, true},
		{"42\n", 42, true},
		{"  -7", -7, true},
		{"+3", 3, true},
		{"0x1f", 31, true},
		{"010", 8, true},
		{"09", 0, true},
		{"12abc", 12, true},
		{"abc", 0, true},
		{"0x", 0, true},
		{"2147483648", 2147483648, true},
		{"2147483649", 0, false},
		{"-2147483648", -2147483648, true},
		{"-2147483649", 0, false},
		{"99999999999999999999", 0, false},
	} {
		got, ok := ParseTrackFileValue(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseTrackFileValue(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

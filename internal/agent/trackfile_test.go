package agent

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/lvskit/lvskit/internal/config"
)

// keepalived 2.2.7's arithmetic (trackers/track_file.c,
// process_update_vrrp_track_file_status and
// initialise_vrrp_file_tracking_priorities).
func TestFileDelta(t *testing.T) {
	for _, tc := range []struct {
		weight  int
		reverse bool
		value   int64
		delta   int
		fault   bool
	}{
		{0, false, 0, 0, false},
		{0, false, 1, 0, true},
		{0, false, -3, 0, true},
		{0, true, 0, 0, true},
		{0, true, 5, 0, false},
		{1, false, 0, 0, false},
		{1, false, 20, 20, false},
		{-10, false, 3, -30, false},
		{-10, true, 3, 30, false},
		{2, false, 200, 253, false},
		{1, false, -253, -253, false},
		{1, false, -254, 0, true},
		{-1, false, 1000, 0, true},
		{254, false, 1 << 31, 253, false},
		{-254, false, 1 << 31, 0, true},
	} {
		d, f := fileDelta(tc.weight, tc.reverse, tc.value)
		if d != tc.delta || f != tc.fault {
			t.Errorf("fileDelta(%d, %v, %d) = %d, %v; want %d, %v", tc.weight, tc.reverse, tc.value, d, f, tc.delta, tc.fault)
		}
	}
}

func TestTrackingFiles(t *testing.T) {
	cfg := &config.Config{
		TrackedFiles: []config.TrackedFile{{Name: "maint", Path: "/x/maint"}, {Name: "prio", Path: "/x/prio"}},
		VRRP: []config.VRRPInstance{
			{Name: "A", Interface: "eth1", Priority: 100, TrackFiles: []config.TrackFile{{Name: "maint"}, {Name: "prio", Weight: -10}}},
			{Name: "B", Interface: "eth1", Priority: 100, TrackFiles: []config.TrackFile{{Name: "maint", Reverse: true}}},
		},
	}
	tr := newTracking(cfg)
	if tr == nil {
		t.Fatal("newTracking = nil for instances tracking files")
	}
	if got := tr.fileNames(); len(got) != 2 {
		t.Errorf("fileNames = %q", got)
	}
	state := func() string {
		s := ""
		for _, in := range tr.insts {
			p, f := tr.effective(in)
			s += in.name + ":" + strconv.Itoa(int(p))
			if f {
				s += "F"
			}
			s += " "
		}
		return s
	}
	// Unwatched files count neither way.
	if got, want := state(), "A:100 B:100 "; got != want {
		t.Errorf("before the files are read: %q, want %q", got, want)
	}
	tr.file("maint", 0)
	tr.file("prio", 2)
	if got, want := state(), "A:80 B:100F "; got != want {
		t.Errorf("maint 0, prio 2: %q, want %q", got, want)
	}
	us := tr.file("maint", 1)
	if got, want := state(), "A:80F B:100 "; got != want {
		t.Errorf("maint 1: %q, want %q", got, want)
	}
	if len(us) != 2 {
		t.Errorf("maint 1 changed %d instances, want 2", len(us))
	}
	tr.file("maint", 0)
	tr.file("prio", 30)
	if got, want := state(), "A:100F B:100F "; got != want {
		t.Errorf("prio 30 (-300, beyond -254: FAULT, the file adding nothing): %q, want %q", got, want)
	}
	tr.file("prio", -30)
	if got, want := state(), "A:254 B:100F "; got != want {
		t.Errorf("prio -30 (+300, clamped to 253): %q, want %q", got, want)
	}
}

// watchFiles follows what keepalived follows: writes, deletions, files
// moved in; it creates files with init_file and skips a missing folder.
func TestWatchFiles(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("inotify is Linux's")
	}
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("b", "7\n")
	write("c", "3\n")
	files := []config.TrackedFile{
		{Name: "a", Path: filepath.Join(dir, "a"), Init: true, InitValue: 5},
		{Name: "b", Path: filepath.Join(dir, "b")},
		{Name: "c", Path: filepath.Join(dir, "c"), Init: true, InitValue: 9, InitOverwrite: true},
		{Name: "gone", Path: filepath.Join(dir, "nodir", "x")},
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	initial, ch, err := watchFiles(ctx, files, log)
	if err != nil {
		t.Fatal(err)
	}
	want := []fileValue{{"a", 5}, {"b", 7}, {"c", 9}}
	if len(initial) != len(want) {
		t.Fatalf("initial = %v, want %v (the file in a missing folder is not tracked)", initial, want)
	}
	for i := range want {
		if initial[i] != want[i] {
			t.Errorf("initial[%d] = %v, want %v", i, initial[i], want[i])
		}
	}
	// next waits for want; a file rewritten in place may be read while
	// it is empty (as keepalived may read it), so other values may come
	// first, but never one out of range.
	next := func(what string, want fileValue) {
		t.Helper()
		timeout := time.After(5 * time.Second)
		for {
			select {
			case v := <-ch:
				if v.value > 1<<31 {
					t.Fatalf("%s: got %v: an out-of-range value must be ignored", what, v)
				}
				if v == want {
					return
				}
			case <-timeout:
				t.Fatalf("%s: no %v in 5 s", what, want)
			}
		}
	}
	write("b", "0x10")
	next("writing 0x10 to b", fileValue{"b", 16})
	if err := os.Remove(filepath.Join(dir, "b")); err != nil {
		t.Fatal(err)
	}
	next("deleting b", fileValue{"b", 0})
	write("tmp", "-4\n")
	if err := os.Rename(filepath.Join(dir, "tmp"), filepath.Join(dir, "a")); err != nil {
		t.Fatal(err)
	}
	next("moving -4 onto a", fileValue{"a", -4})
	write("c", "99999999999\n") // out of range: ignored
	write("c", "2\n")
	next("writing an out-of-range value then 2 to c", fileValue{"c", 2})
	cancel()
	for range ch {
	}
}

package healthcheck

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestStrtol(t *testing.T) {
	tests := []struct {
		in       string
		want     int64
		overflow bool
	}{
		{"", 0, false},
		{"5\n", 5, false},
		{"  \t-12abc", -12, false},
		{"+7", 7, false},
		{"0x1F", 31, false},
		{"0X1f\n", 31, false},
		{"010", 8, false},
		{"09", 0, false}, // octal stops at 9
		{"0x", 0, false}, // no hex digit: the 0 alone
		{"abc", 0, false},
		{"- 5", 0, false},
		{"9223372036854775807", math.MaxInt64, false},
		{"-9223372036854775808", math.MinInt64, false},
		{"9223372036854775808", 0, true},
		{"99999999999999999999999", 0, true},
	}
	for _, tt := range tests {
		v, of := strtol([]byte(tt.in))
		if v != tt.want || of != tt.overflow {
			t.Errorf("strtol(%q) = %d, %v; want %d, %v", tt.in, v, of, tt.want, tt.overflow)
		}
	}
}

func TestFileStatus(t *testing.T) {
	type out struct {
		Up    bool
		Delta int
	}
	tests := []struct {
		name    string
		v       int64
		weight  int
		reverse bool
		want    out
	}{
		{"weight 0, value 0 is up", 0, 0, false, out{true, 0}},
		{"weight 0, non-zero is down", 3, 0, false, out{false, 0}},
		{"weight 0 reverse, value 0 is down", 0, 0, true, out{false, 0}},
		{"weight 0 reverse, non-zero is up", -1, 0, true, out{true, 0}},
		{"weight 1 adds the value", 5, 1, false, out{true, 5}},
		{"weight 1 negative value", -5, 1, false, out{true, -5}},
		{"weight 10", 3, 10, false, out{true, 30}},
		{"reverse negates", 3, 10, true, out{true, -30}},
		{"negative weight", 3, -2, false, out{true, -6}},
		{"clamped high", math.MaxInt32 + 1, 1, false, out{true, math.MaxInt32}},
		{"INT_MIN is a fault", math.MinInt32, 1, false, out{false, 0}},
		{"below INT_MIN is a fault", -2, math.MaxInt32, false, out{false, 0}},
		{"reverse to INT_MIN is a fault", math.MaxInt32 + 1, 1, true, out{false, 0}},
		{"just above the fault is up", math.MinInt32 + 1, 1, false, out{true, math.MinInt32 + 1}},
	}
	for _, tt := range tests {
		up, d := FileStatus(tt.v, tt.weight, tt.reverse)
		if diff := cmp.Diff(tt.want, out{up, d}); diff != "" {
			t.Errorf("%s: FileStatus(%d, %d, %v) (-want +got):\n%s", tt.name, tt.v, tt.weight, tt.reverse, diff)
		}
	}
}

func TestFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "status")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	type res struct {
		Up        bool
		Weight    int
		HasWeight bool
	}
	f := &File{Path: path, Weight: 1, BaseWeight: 10}
	steps := []struct {
		name  string
		setup func()
		want  res
	}{
		{"missing file reads 0", func() {}, res{true, 10, true}},
		{"value adds to the base weight", func() { write("5\n") }, res{true, 15, true}},
		{"negative value lowers it", func() { write("-4") }, res{true, 6, true}},
		{"weight never below 0", func() { write("-40") }, res{true, 0, true}},
		{"out-of-range value keeps the last one", func() { write("4294967296") }, res{true, 0, true}},
		{"INT_MIN is down", func() { write("-2147483648") }, res{false, 0, false}},
		{"empty file reads 0", func() { write("") }, res{true, 10, true}},
		{"garbage reads 0", func() { write("up") }, res{true, 10, true}},
		{"hex", func() { write("0x10") }, res{true, 26, true}},
		{"removed file reads 0", func() { os.Remove(path) }, res{true, 10, true}},
	}
	for _, s := range steps {
		s.setup()
		r := f.Check(context.Background())
		if diff := cmp.Diff(s.want, res{r.Up, r.Weight, r.HasWeight}); diff != "" {
			t.Errorf("%s: %v (-want +got):\n%s", s.name, r, diff)
		}
	}
}

func TestFileOnOff(t *testing.T) {
	path := filepath.Join(t.TempDir(), "maint")
	f := &File{Path: path, Weight: 0, Reverse: false, BaseWeight: 3}
	if r := f.Check(context.Background()); !r.Up || r.Weight != 3 {
		t.Errorf("weight 0 with no file: %v, want up with weight 3", r)
	}
	os.WriteFile(path, []byte("1\n"), 0o644)
	if r := f.Check(context.Background()); r.Up {
		t.Errorf("weight 0 with 1 in the file: %v, want down", r)
	}
	if err := (&File{}).Validate(); err == nil {
		t.Error("Validate of an empty path: nil error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if r := f.Check(ctx); r.Up {
		t.Errorf("canceled check: %v, want down", r)
	}
}

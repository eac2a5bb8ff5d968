package healthcheck

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"sync"
)

// fileReadMax is how much of a tracked file keepalived reads (its 128-byte
// buffer, less the terminating NUL).
const fileReadMax = 127

// File checks the integer written in a file, as keepalived's FILE_CHECK
// does with its track_file. Each check reads the file's first 127 bytes
// as C's strtol(s, NULL, 0) does: leading white space, a sign, then
// decimal, 0x hexadecimal or 0 octal digits, stopping at the first other
// byte; no digits, an empty file, a missing or unreadable file all read
// as 0. A number outside [-2147483648, 2147483648] is ignored: the check
// keeps the value it read before (0 at first), as keepalived does.
//
// The value v becomes a status s = v × Weight, negated when Reverse is set,
// clamped to the int32 range. The check is down when s is -2147483648
// (keepalived's IPVS_WEIGHT_FAULT), else up with weight BaseWeight + s
// (HasWeight set, clamped to [0, 2147483647], keepalived's real_weight).
// With Weight 0 the value only says up or down: 0 is up and anything else
// down, or the reverse with Reverse set.
//
// keepalived reacts to the file's changes at once (inotify); File reads it
// at each check, so a change shows at the next check.
type File struct {
	// Path is the file to read (track_file's file).
	Path string
	// Weight multiplies the value (the FILE_CHECK's weight, else its
	// track_file's; keepalived's default is 1). It lies in
	// [-2147483647, 2147483647] in keepalived's syntax.
	Weight int
	// Reverse negates the status (weight ... reverse).
	Reverse bool
	// BaseWeight is the real server's configured weight, to which the
	// status is added.
	BaseWeight int

	mu   sync.Mutex
	last int64
}

// Validate reports an empty path.
func (f *File) Validate() error {
	if f.Path == "" {
		return fmt.Errorf("healthcheck: file path %q: want a file name", f.Path)
	}
	return nil
}

// Check implements Checker.
func (f *File) Check(ctx context.Context) Result {
	if err := f.Validate(); err != nil {
		return Result{Reason: err.Error(), Err: err}
	}
	if ctx.Err() != nil {
		return Result{Reason: "check canceled", Err: ctx.Err()}
	}
	v, ok := readFileValue(f.Path)
	f.mu.Lock()
	if ok {
		f.last = v
	} else {
		v = f.last
	}
	f.mu.Unlock()
	up, delta := FileStatus(v, f.Weight, f.Reverse)
	reason := fmt.Sprintf("%s reads %d", f.Path, v)
	if !ok {
		reason = fmt.Sprintf("%s holds an out-of-range number, kept %d", f.Path, v)
	}
	if !up {
		return Result{Reason: reason}
	}
	w := int64(f.BaseWeight) + int64(delta)
	w = max(0, min(w, math.MaxInt32))
	return Result{Up: true, Reason: reason, Weight: int(w), HasWeight: true}
}

// FileStatus is keepalived's reading of a tracked file's value v for a
// checker with the given weight: whether the real server is up, and the
// amount added to its weight.
func FileStatus(v int64, weight int, reverse bool) (up bool, delta int) {
	if weight == 0 {
		return (v == 0) != reverse, 0
	}
	m := int64(weight)
	if reverse {
		m = -m
	}
	s := v * m // |v| ≤ 2^31 and |m| < 2^31: no overflow, as in keepalived
	s = max(math.MinInt32, min(s, math.MaxInt32))
	if s == math.MinInt32 {
		return false, 0
	}
	return true, int(s)
}

// readFileValue reads a tracked file as keepalived does. ok is false when
// the number is out of range, to be ignored.
func readFileValue(path string) (v int64, ok bool) {
	fh, err := os.Open(path)
	if err != nil {
		return 0, true
	}
	buf := make([]byte, fileReadMax)
	n, _ := io.ReadAtLeast(fh, buf, 1)
	fh.Close()
	v, overflow := strtol(buf[:n])
	if overflow || v < math.MinInt32 || v > math.MaxInt32+1 {
		return 0, false
	}
	return v, true
}

// strtol reads an integer as C's strtol(s, NULL, 0); overflow reports a
// value outside int64 (ERANGE).
func strtol(s []byte) (v int64, overflow bool) {
	i := 0
	for i < len(s) && (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r')) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	base := uint64(10)
	switch {
	case i+2 < len(s) && s[i] == '0' && (s[i+1]|0x20) == 'x' && digitVal(s[i+2]) < 16:
		base, i = 16, i+2
	case i < len(s) && s[i] == '0':
		base = 8
	}
	var u uint64
	for ; i < len(s); i++ {
		d := uint64(digitVal(s[i]))
		if d >= base {
			break
		}
		if u > (math.MaxUint64-d)/base {
			overflow = true
			continue
		}
		u = u*base + d
	}
	if overflow || (!neg && u > math.MaxInt64) || (neg && u > 1<<63) {
		return 0, true
	}
	if neg {
		return int64(-u), false
	}
	return int64(u), false
}

func digitVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	}
	return 99
}

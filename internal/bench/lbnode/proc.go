package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// procStat is what the benchmark reads from /proc/PID/stat.
type procStat struct {
	comm     string
	ppid     int
	self     int64 // utime + stime, in clock ticks
	sys      int64 // stime: the part of self spent in the kernel
	children int64 // cutime + cstime: children waited for
}

// ticks returns the CPU time of the process and its reaped children.
func (st procStat) ticks() int64 { return st.self + st.children }

// parseStat parses the contents of /proc/PID/stat. The command name is in
// parentheses and may itself hold spaces and parentheses, so the fields are
// counted from the last ')'.
func parseStat(s string) (procStat, error) {
	open := strings.IndexByte(s, '(')
	end := strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return procStat{}, fmt.Errorf("stat %q: no (comm)", s)
	}
	st := procStat{comm: s[open+1 : end]}
	f := strings.Fields(s[end+1:])
	// f[0] is field 3 (state): ppid is field 4, utime..cstime 14..17.
	if len(f) < 15 {
		return procStat{}, fmt.Errorf("stat %q: %d fields after comm, want at least 15", s, len(f))
	}
	var err error
	if st.ppid, err = strconv.Atoi(f[1]); err != nil {
		return procStat{}, fmt.Errorf("stat: ppid %q: %v", f[1], err)
	}
	for i := 11; i <= 14; i++ {
		v, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return procStat{}, fmt.Errorf("stat: field %d %q: %v", i+3, f[i], err)
		}
		if i == 12 {
			st.sys = v
		}
		if i <= 12 {
			st.self += v
		} else {
			st.children += v
		}
	}
	return st, nil
}

// kBField returns the value in kB of a "Name:   123 kB" line of
// /proc/PID/status or smaps_rollup, and false when the line is absent
// (a zombie has no VmRSS).
func kBField(s, name string) (int64, bool) {
	for line := range strings.Lines(s) {
		rest, ok := strings.CutPrefix(line, name+":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, false
		}
		v, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, false
		}
		return v, true
	}
	return 0, false
}

// switchCount returns voluntary_ctxt_switches plus
// nonvoluntary_ctxt_switches of a /proc/PID/task/TID/status text.
func switchCount(status string) int64 {
	var n int64
	for line := range strings.Lines(status) {
		name, v, ok := strings.Cut(line, ":")
		if !ok || (name != "voluntary_ctxt_switches" && name != "nonvoluntary_ctxt_switches") {
			continue
		}
		if c, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
			n += c
		}
	}
	return n
}

// tree returns root and its descendants in parents (PID -> parent PID),
// leaving out every process for which skip is true, and its descendants.
func tree(root int, parents map[int]int, skip func(pid int) bool) []int {
	children := map[int][]int{}
	for pid, pp := range parents {
		children[pp] = append(children[pp], pid)
	}
	var out []int
	var walk func(int)
	walk = func(p int) {
		if skip(p) {
			return
		}
		out = append(out, p)
		for _, c := range children[p] {
			walk(c)
		}
	}
	if _, ok := parents[root]; ok {
		walk(root)
	}
	return out
}

// median returns the median of v (0 for none); v is sorted in place.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

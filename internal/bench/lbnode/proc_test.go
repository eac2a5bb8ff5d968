package main

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseStat(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    procStat
		wantErr bool
	}{
		{
			name: "keepalived",
			in:   "412 (keepalived) S 410 409 409 0 -1 4194624 532 0 0 0 7 12 3 4 20 0 1 0 1234 10000000 500 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0",
			want: procStat{comm: "keepalived", ppid: 410, self: 7 + 12, sys: 12, children: 3 + 4},
		},
		{
			name: "comm with spaces and parentheses",
			in:   "9 (a (b) c) R 1 9 9 0 -1 0 0 0 0 0 100 50 0 0 20 0 1 0 1 1 1",
			want: procStat{comm: "a (b) c", ppid: 1, self: 150, sys: 50},
		},
		{name: "no comm", in: "9 x R 1", wantErr: true},
		{name: "truncated", in: "9 (x) R 1 9 9 0", wantErr: true},
		{name: "bad utime", in: "9 (x) R 1 9 9 0 -1 0 0 0 0 0 u 50 0 0 20", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStat(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseStat: err %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(procStat{})); diff != "" {
				t.Errorf("parseStat (-want +got):\n%s", diff)
			}
			if got.ticks() != tt.want.self+tt.want.children {
				t.Errorf("ticks() = %d, want %d", got.ticks(), tt.want.self+tt.want.children)
			}
		})
	}
}

func TestKBField(t *testing.T) {
	status := "Name:\tkeepalived\nVmHWM:\t    6012 kB\nVmRSS:\t    5100 kB\nThreads:\t1\n"
	tests := []struct {
		name   string
		field  string
		want   int64
		wantOK bool
	}{
		{"rss", "VmRSS", 5100, true},
		{"hwm", "VmHWM", 6012, true},
		{"absent", "Pss", 0, false},
		{"not kB", "Threads", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := kBField(status, tt.field)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("kBField(%s) = %d, %v; want %d, %v", tt.field, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestTree(t *testing.T) {
	// 1 init; 10 keepalived -> 11 vrrp, 12 checker -> 13 nc; 20 nginx
	// started by 10 -> 21 worker; 30 unrelated.
	parents := map[int]int{1: 0, 10: 1, 11: 10, 12: 10, 13: 12, 20: 10, 21: 20, 30: 1}
	skip := func(pid int) bool { return pid == 20 }
	tests := []struct {
		name string
		root int
		want []int
	}{
		{"daemon without nginx", 10, []int{10, 11, 12, 13}},
		{"leaf", 13, []int{13}},
		{"gone", 99, nil},
		{"skipped root", 20, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tree(tt.root, parents, skip)
			slices.Sort(got)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("tree (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	}
	for _, tt := range tests {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestSwitchCount(t *testing.T) {
	status := "Name:\tlbnode\nState:\tS (sleeping)\nvoluntary_ctxt_switches:\t120\nnonvoluntary_ctxt_switches:\t7\n"
	if got := switchCount(status); got != 127 {
		t.Errorf("switchCount = %d, want 127", got)
	}
	if got := switchCount("Name:\tzombie\n"); got != 0 {
		t.Errorf("switchCount without the fields = %d, want 0", got)
	}
}

package topology

import "testing"

func TestStatPgrp(t *testing.T) {
	for _, tc := range []struct {
		stat string
		want int
		ok   bool
	}{
		{"4242 (keepalived) S 4240 4240 4240 0 -1 4194624 105 0", 4240, true},
		{"17 (a) b) (c) R 1 99 17 0", 99, true},
		{"17 (cut) R 1", 0, false},
		{"no parentheses", 0, false},
	} {
		got, ok := statPgrp(tc.stat)
		if got != tc.want || ok != tc.ok {
			t.Errorf("statPgrp(%q) = %d, %v; want %d, %v", tc.stat, got, ok, tc.want, tc.ok)
		}
	}
}

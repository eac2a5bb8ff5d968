package agent

import (
	"testing"
	"time"
)

// The delay-loop comparison runs every interval, on the instants a round
// of health checks of that interval is due once one is known, and never
// later than an interval after the last.
func TestNextSync(t *testing.T) {
	const iv = 6 * time.Second
	base := time.Unix(1_800_000_000, 0)
	ns := func(t time.Time) int64 { return t.UnixNano() }
	tests := []struct {
		name string
		now  time.Time
		pace int64
		want time.Time
	}{
		{"no round known: one interval on", base, 0, base.Add(iv)},
		{"between rounds: the next round", base.Add(3*iv + iv/5), ns(base), base.Add(4 * iv)},
		{"on a round: the one after", base.Add(3 * iv), ns(base), base.Add(4 * iv)},
		{"a round just after now", base, ns(base.Add(iv / 10)), base.Add(iv / 10)},
		{"a round known far ahead", base, ns(base.Add(2*iv + iv/2)), base.Add(iv / 2)},
		{"a round a millisecond ago", base, ns(base.Add(-time.Millisecond)), base.Add(iv - time.Millisecond)},
	}
	for _, tt := range tests {
		got := nextSync(tt.now, iv, tt.pace)
		if !got.Equal(tt.want) {
			t.Errorf("%s: next %v after now, want %v", tt.name, got.Sub(tt.now), tt.want.Sub(tt.now))
		}
		if got.After(tt.now.Add(iv)) || !got.After(tt.now) {
			t.Errorf("%s: next %v after now, want within (0, %v]", tt.name, got.Sub(tt.now), iv)
		}
	}
}

package cluster

import (
	"errors"
	"testing"
	"time"
)

func TestSummarizeOutagesAndBrokenConnections(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	fail := errors.New("timeout")
	rs := []Result{
		{Kind: LoadHTTP, Start: at(0), End: at(10)},
		{Kind: LoadHTTP, Start: at(100), End: at(2100), Err: fail},
		{Kind: LoadDNS, Start: at(150), End: at(200), Err: fail},
		{Kind: LoadHTTP, Start: at(200), End: at(2200), Err: fail},
		{Kind: LoadKeepAlive, Conn: 0, Start: at(250), End: at(260), Err: fail, Broken: true},
		{Kind: LoadDNS, Start: at(350), End: at(360)},
		{Kind: LoadHTTP, Start: at(900), End: at(910)}, // HTTP outage 100..900
		{Kind: LoadKeepAlive, Conn: 0, Start: at(750), End: at(760), Err: fail},
	}
	s := Summarize(rs, at(2000)) // the keep-alive outage runs to the end: 250..2000
	if s.Requests != 8 || s.Failed != 5 || s.Broken != 1 {
		t.Errorf("requests %d, failed %d, broken %d; want 8, 5, 1", s.Requests, s.Failed, s.Broken)
	}
	if s.FailedBy[LoadHTTP] != 2 || s.FailedBy[LoadDNS] != 1 || s.FailedBy[LoadKeepAlive] != 2 {
		t.Errorf("failed by kind %v", s.FailedBy)
	}
	if want := 1750 * time.Millisecond; s.LongestOutage != want {
		t.Errorf("longest outage %v, want %v", s.LongestOutage, want)
	}
	if !s.LastFailure.Equal(at(2200)) {
		t.Errorf("last failure %v, want %v", s.LastFailure, at(2200))
	}
}

func TestVIPStatsCountsTransitionsAndSplitBrain(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	w := &VIPWatch{samples: []VIPSample{
		{At: at(0), Hold: []bool{true, false}},
		{At: at(100), Hold: []bool{true, false}},
		{At: at(200), Hold: []bool{true, true}},  // lb2 takes it
		{At: at(300), Hold: []bool{true, true}},  // still both
		{At: at(400), Hold: []bool{false, true}}, // lb1 gives it up
		{At: at(500), Hold: []bool{false, true}},
	}}
	st := w.Stats(at(50), at(600))
	if st.Transitions != 2 || st.SplitBrain != 200*time.Millisecond || st.MaxHolders != 2 {
		t.Errorf("stats %+v; want 2 transitions, 200ms split brain, 2 holders at most", st)
	}
	// A window starting inside the split brain counts from its start.
	st = w.Stats(at(300), at(600))
	if st.Transitions != 1 || st.SplitBrain != 100*time.Millisecond {
		t.Errorf("stats from 300ms %+v; want 1 transition, 100ms split brain", st)
	}
}

package config

import (
	"strings"
	"testing"
)

// TestKeepalivedLVSGlobals reads lvs_timeouts, lvs_flush and
// lvs_flush_on_stop; the warnings are those of keepalived 2.2.7
// ("keepalived -t -l -D" on the same lines), one per line it reports.
func TestKeepalivedLVSGlobals(t *testing.T) {
	tests := []struct {
		name     string
		global   string
		timeouts LVSTimeouts
		flush    bool
		onStop   LVSFlushOnStop
		warnings []string // substrings, in order; each with ka.conf:2 or later
	}{
		{"none", "", LVSTimeouts{}, false, LVSFlushOwn, nil},
		{"every timeout", "lvs_timeouts tcp 900 tcpfin 120 udp 300", LVSTimeouts{TCP: 900, TCPFin: 120, UDP: 300}, false, LVSFlushOwn, nil},
		{"one timeout, repeated: the last wins", "lvs_timeouts udp 10 udp 20", LVSTimeouts{UDP: 20}, false, LVSFlushOwn, nil},
		{"lines add up", "lvs_timeouts tcp 5\nlvs_timeouts udp 6", LVSTimeouts{TCP: 5, UDP: 6}, false, LVSFlushOwn, nil},
		{"31 days is the most", "lvs_timeouts tcp 2678400 tcpfin 0", LVSTimeouts{TCP: 2678400}, false, LVSFlushOwn, nil},
		{"no option", "lvs_timeouts", LVSTimeouts{}, false, LVSFlushOwn, []string{"requires at least one option"}},
		{"option without value", "lvs_timeouts tcp", LVSTimeouts{}, false, LVSFlushOwn, []string{"requires at least one option"}},
		{"too long, and no value", "lvs_timeouts tcp 2678401 udp", LVSTimeouts{}, false, LVSFlushOwn,
			[]string{`invalid tcp "2678401"`, "no value for udp"}},
		{"unknown, negative, not whole", "lvs_timeouts bogus 3 udp -1 tcpfin 1.5 tcp 7", LVSTimeouts{TCP: 7}, false, LVSFlushOwn,
			[]string{`unknown option "bogus"`, `unknown option "3"`, `invalid udp "-1"`, `invalid tcpfin "1.5"`}},
		{"lvs_flush", "lvs_flush", LVSTimeouts{}, true, LVSFlushOwn, nil},
		{"lvs_flush whatever follows", "lvs_flush extra", LVSTimeouts{}, true, LVSFlushOwn, nil},
		{"flush on stop", "lvs_flush_on_stop", LVSTimeouts{}, false, LVSFlushAll, nil},
		{"flush on stop VS", "lvs_flush_on_stop VS", LVSTimeouts{}, false, LVSFlushVS, nil},
		{"older name", "lvs_flush_onstop", LVSTimeouts{}, false, LVSFlushAll, nil},
		{"VS with more words", "lvs_flush_onstop VS x", LVSTimeouts{}, false, LVSFlushVS, nil},
		{"unknown type leaves the setting", "lvs_flush_on_stop\nlvs_flush_on_stop ALL\nlvs_flush_on_stop vs", LVSTimeouts{}, false, LVSFlushAll,
			[]string{`ka.conf:3: lvs_flush_on_stop: unknown type "ALL"`, `ka.conf:4: lvs_flush_on_stop: unknown type "vs"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := ParseKeepalived("ka.conf", []byte(syncdConf(tt.global, "")))
			if err != nil {
				t.Fatal(err)
			}
			g := cfg.Global
			if g.LVSTimeouts != tt.timeouts || g.LVSFlush != tt.flush || g.LVSFlushOnStop != tt.onStop {
				t.Errorf("LVSTimeouts %+v LVSFlush %v LVSFlushOnStop %v, want %+v %v %v", g.LVSTimeouts, g.LVSFlush, g.LVSFlushOnStop, tt.timeouts, tt.flush, tt.onStop)
			}
			checkPrefixedWarnings(t, cfg, "lvs_", tt.warnings)
		})
	}
}

func TestKeepalivedLVSGlobalsBlock(t *testing.T) {
	for _, kw := range []string{"lvs_timeouts", "lvs_flush", "lvs_flush_on_stop"} {
		_, err := ParseKeepalived("ka.conf", []byte(syncdConf(kw+" {\n}", "")))
		if err == nil || !strings.Contains(err.Error(), "ka.conf:2") || !strings.Contains(err.Error(), kw) {
			t.Errorf("%s with a block: error %v, want one at ka.conf:2 naming it", kw, err)
		}
	}
}

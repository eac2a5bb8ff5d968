package agent

import (
	"context"
	"log/slog"
	"maps"
	"math"
	"slices"

	"github.com/lvskit/lvskit/internal/config"
)

// fileKey is the key of a tracked file's value among the health states:
// no health target's name starts with a NUL byte.
func fileKey(name string) string { return "\x00track_file " + name }

// fileCheckStatus is what a FILE_CHECK with weight and reverse makes of its
// file's value v, as keepalived 2.2.7's update_track_file_status: with
// weight 0, down when v is not 0 (reversed: when it is); otherwise v times
// the weight (negated by reverse), clamped to the 32-bit range, is added
// to the real server's weight, and the bottom of that range takes it down.
func fileCheckStatus(v int64, weight int, reverse bool) (delta int64, down bool) {
	if weight == 0 {
		return 0, (v != 0) != reverse
	}
	p := v * int64(weight)
	if reverse {
		p = -p
	}
	switch {
	case p <= math.MinInt32:
		return 0, true
	case p > math.MaxInt32:
		p = math.MaxInt32
	}
	return p, false
}

// applyFileChecks takes a real server's liveness and weight from its
// other checkers and applies its FILE_CHECKs, whose files' values are in
// up under fileKey (a value not known yet counts as 0): one that is down
// takes the real server down, the others add to its weight, which is kept
// to 0..MaxInt32 (keepalived's real_weight).
func applyFileChecks(files []config.FileCheck, up map[string]targetState, alive bool, weight int) (bool, int) {
	if len(files) == 0 {
		return alive, weight
	}
	w := int64(weight)
	for _, f := range files {
		d, down := fileCheckStatus(int64(up[fileKey(f.Name)].weight), f.Weight, f.Reverse)
		if down {
			alive = false
		}
		w += d
	}
	return alive, int(min(max(w, 0), math.MaxInt32))
}

// fileCheckFiles are the track_files that real servers check, as defined.
func fileCheckFiles(cfg *config.Config) []config.TrackedFile {
	var names []string
	for _, vs := range cfg.VirtualServers {
		for _, rs := range vs.RealServers {
			for _, f := range rs.FileChecks {
				if !slices.Contains(names, f.Name) {
					names = append(names, f.Name)
				}
			}
		}
	}
	var out []config.TrackedFile
	for _, f := range cfg.TrackedFiles {
		if slices.Contains(names, f.Name) {
			out = append(out, f)
		}
	}
	return out
}

// health is the health state with the values of the checked files, for
// the plan; the caller holds a.mu.
func (a *Agent) healthLocked() map[string]targetState {
	if len(a.fileValues) == 0 {
		return a.health
	}
	h := maps.Clone(a.health)
	for name, v := range a.fileValues {
		h[fileKey(name)] = targetState{up: true, weight: int(v)}
	}
	return h
}

// watchFileChecks follows the files that real servers check (FILE_CHECK)
// and makes IPVS follow their values, until ctx is done. The values
// known at start are in place when it returns.
func (a *Agent) watchFileChecks(ctx context.Context, files []config.TrackedFile, log *slog.Logger) <-chan struct{} {
	done := make(chan struct{})
	initial, ch, err := a.env.WatchFiles(ctx, files, log)
	if err != nil {
		log.Error("ipvs: watching the files of FILE_CHECKs; they do not apply", "err", err)
		close(done)
		return done
	}
	a.mu.Lock()
	a.fileValues = map[string]int64{}
	for _, v := range initial {
		a.fileValues[v.name] = v.value
	}
	a.mu.Unlock()
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case v, ok := <-ch:
				if !ok {
					return
				}
				a.mu.Lock()
				old, known := a.fileValues[v.name]
				a.fileValues[v.name] = v.value
				a.mu.Unlock()
				if known && old == v.value {
					continue
				}
				log.Info("ipvs: checked file", "track_file", v.name, "value", v.value)
				if err := a.sync("track_file"); err != nil {
					log.Error("ipvs: applying a checked file", "track_file", v.name, "err", err)
				}
			}
		}
	}()
	return done
}

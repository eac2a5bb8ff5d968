package scaleout

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// PathWatch records every change of the router's next hops for the VIP.
type PathWatch struct {
	mu      sync.Mutex
	changes []PathChange
	stop    chan struct{}
	done    chan struct{}
}

// PathChange is the router's next hops (node names) from At on.
type PathChange struct {
	At    time.Time
	Paths []string
}

// WatchPaths samples the router's next hops for the VIP every 50 ms, for
// at most about half an hour, until Stop.
func (c *Cluster) WatchPaths() *PathWatch {
	w := &PathWatch{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		var last []string
		for i := 0; i < 20000; i++ { // bounded: at most about half an hour of samples
			select {
			case <-w.stop:
				return
			default:
			}
			if names, err := c.Paths(); err == nil {
				if i == 0 || !slices.Equal(names, last) {
					w.mu.Lock()
					w.changes = append(w.changes, PathChange{time.Now(), names})
					w.mu.Unlock()
					last = names
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	return w
}

// Stop ends the watch and returns its changes, each as the time relative
// to t0 and the paths: "-2.10s [lb1 lb2 lb3], +1.85s [lb1 lb2]".
func (w *PathWatch) Stop(t0 time.Time) string {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, c := range w.changes {
		out = append(out, fmt.Sprintf("%+.2fs %v", c.At.Sub(t0).Seconds(), c.Paths))
	}
	return strings.Join(out, ", ")
}

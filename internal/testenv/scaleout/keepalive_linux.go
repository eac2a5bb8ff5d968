package scaleout

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/topology"
)

// KeepAlive is a set of long-lived HTTP/1.1 connections from a namespace
// to an address, each sending a request every second until stopped (at
// most for its limit). The load is kept light: under the VM's software
// emulation a heavy one delays BFD packets past 900 ms and the router
// takes healthy nodes out.
type KeepAlive struct {
	mu     sync.Mutex
	ports  []int
	failed map[int]error
	when   map[int]time.Time // of the failure
	reqs   int
	stop   chan struct{}
	wg     sync.WaitGroup
}

// StartKeepAlive opens n connections from ns to addr, one after the
// other, and starts their requests. If a connection cannot be opened, the
// ones already open are closed and the error returned.
func StartKeepAlive(ns *topology.NS, addr netip.AddrPort, n int, limit time.Duration) (*KeepAlive, error) {
	k := &KeepAlive{failed: map[int]error{}, when: map[int]time.Time{}, stop: make(chan struct{})}
	for range n {
		var c net.Conn
		if err := ns.Do(func() (err error) {
			c, err = net.DialTimeout("tcp4", addr.String(), 5*time.Second)
			return err
		}); err != nil {
			k.Stop()
			return nil, fmt.Errorf("%s: connecting to %s: %w", ns.Name, addr, err)
		}
		port := c.LocalAddr().(*net.TCPAddr).Port
		k.ports = append(k.ports, port)
		k.wg.Add(1)
		go func() {
			defer k.wg.Done()
			defer c.Close()
			rd := bufio.NewReader(c)
			deadline := time.Now().Add(limit)
			for time.Now().Before(deadline) {
				select {
				case <-k.stop:
					return
				default:
				}
				if err := keepAliveGet(c, rd); err != nil {
					k.mu.Lock()
					k.failed[port] = err
					k.when[port] = time.Now()
					k.mu.Unlock()
					return
				}
				k.mu.Lock()
				k.reqs++
				k.mu.Unlock()
				select {
				case <-k.stop:
					return
				case <-time.After(time.Second):
				}
			}
		}()
	}
	return k, nil
}

func keepAliveGet(c net.Conn, rd *bufio.Reader) error {
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: vip\r\n\r\n"); err != nil {
		return err
	}
	resp, err := http.ReadResponse(rd, nil)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err == nil && resp.StatusCode != 200 {
		err = fmt.Errorf("status %s", resp.Status)
	}
	return err
}

// Stop ends the requests and closes the connections; it may be called more
// than once.
func (k *KeepAlive) Stop() {
	select {
	case <-k.stop:
	default:
		close(k.stop)
	}
	k.wg.Wait()
}

// Ports are the connections' source ports.
func (k *KeepAlive) Ports() []int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]int(nil), k.ports...)
}

// Requests is the number of requests answered so far.
func (k *KeepAlive) Requests() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.reqs
}

// Failed is the number of connections that failed so far.
func (k *KeepAlive) Failed() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.failed)
}

// FailedBefore counts the connections that failed before t.
func (k *KeepAlive) FailedBefore(t time.Time) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	n := 0
	for _, w := range k.when {
		if w.Before(t) {
			n++
		}
	}
	return n
}

// Survival counts, of the connections through a group of nodes, how many
// kept working.
type Survival struct{ Total, Kept int }

func (v Survival) String() string {
	if v.Total == 0 {
		return "0/0"
	}
	return fmt.Sprintf("%d/%d (%.0f %%)", v.Kept, v.Total, 100*float64(v.Kept)/float64(v.Total))
}

// Survival counts the connections that byNode (see [Cluster.ConnsByNode])
// places on a node for which inGroup holds, and how many of them have not
// failed.
func (k *KeepAlive) Survival(byNode map[int]string, inGroup func(string) bool) Survival {
	k.mu.Lock()
	defer k.mu.Unlock()
	var v Survival
	for _, p := range k.ports {
		if n, ok := byNode[p]; ok && inGroup(n) {
			v.Total++
			if k.failed[p] == nil {
				v.Kept++
			}
		}
	}
	return v
}

package cluster

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Kind is the kind of a request of a [Load].
type Kind int

// The client's kinds of requests.
const (
	LoadHTTP      Kind = iota // HTTP GET on a fresh connection
	LoadDNS                   // one DNS A query on a fresh socket
	LoadKeepAlive             // HTTP GET on a long-lived keep-alive connection
)

func (k Kind) String() string {
	switch k {
	case LoadHTTP:
		return "HTTP"
	case LoadDNS:
		return "DNS"
	case LoadKeepAlive:
		return "keep-alive"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Result is one request of a [Load] and its outcome.
type Result struct {
	Kind       Kind
	Conn       int // keep-alive connection number, -1 for the other kinds
	Start, End time.Time
	Err        error
	// Broken is set on the failed request of a keep-alive connection that
	// had served a request before: the connection broke.
	Broken bool
}

// LoadOptions shape a [Load]. Zero fields take the defaults in brackets.
type LoadOptions struct {
	HTTPEvery      time.Duration // a new HTTP connection [100ms]
	DNSEvery       time.Duration // a DNS query [200ms]
	KeepAliveEvery time.Duration // a request on each long-lived connection [500ms]
	KeepAlives     int           // long-lived connections [3]
	Timeout        time.Duration // per request [2s]
	// For bounds the load: it stops by itself after this long. Required.
	For time.Duration
}

// Load is the client's steady load through the VIP from its namespace,
// recording the time and outcome of every request.
type Load struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	results []Result
}

// maxInFlight bounds the fresh-connection requests waiting for an answer.
const maxInFlight = 64

// StartLoad starts the load on c until ctx ends, [Load.Stop] or o.For.
func StartLoad(ctx context.Context, c *Cluster, o LoadOptions) (*Load, error) {
	if o.For <= 0 {
		return nil, errors.New("cluster: a load needs a bound (LoadOptions.For)")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.HTTPEvery, 100*time.Millisecond)
	def(&o.DNSEvery, 200*time.Millisecond)
	def(&o.KeepAliveEvery, 500*time.Millisecond)
	def(&o.Timeout, 2*time.Second)
	if o.KeepAlives == 0 {
		o.KeepAlives = 3
	}
	ctx, cancel := context.WithTimeout(ctx, o.For)
	l := &Load{cancel: cancel}
	sem := make(chan struct{}, maxInFlight)
	var id atomic.Uint32
	vip80 := netip.AddrPortFrom(VIP, 80)
	vip53 := netip.AddrPortFrom(VIP, 53)
	fresh := func(every time.Duration, k Kind, req func() error) {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			start := time.Now()
			select {
			case sem <- struct{}{}:
			default:
				l.add(Result{Kind: k, Conn: -1, Start: start, End: start, Err: errors.New("not sent: too many requests waiting")})
				continue
			}
			l.wg.Go(func() {
				defer func() { <-sem }()
				err := req()
				l.add(Result{Kind: k, Conn: -1, Start: start, End: time.Now(), Err: err})
			})
		}
	}
	l.wg.Go(func() {
		fresh(o.HTTPEvery, LoadHTTP, func() error {
			body, err := HTTPGet(c.Client, vip80, o.Timeout)
			if err == nil && !strings.HasPrefix(body, "Hello from server-") {
				err = fmt.Errorf("unexpected answer %q", body)
			}
			return err
		})
	})
	l.wg.Go(func() {
		fresh(o.DNSEvery, LoadDNS, func() error {
			_, err := DNSQuery(c.Client, vip53, "www.example.com.", uint16(id.Add(1)), o.Timeout)
			return err
		})
	})
	for i := range o.KeepAlives {
		l.wg.Go(func() { l.keepAlive(ctx, c, i, o) })
	}
	return l, nil
}

// keepAlive sends a request every o.KeepAliveEvery on one connection,
// opening a new one when it breaks or the server closes it.
func (l *Load) keepAlive(ctx context.Context, c *Cluster, n int, o LoadOptions) {
	var conn net.Conn
	var rd *bufio.Reader
	served := false
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	tick := time.NewTicker(o.KeepAliveEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		start := time.Now()
		var err error
		if conn == nil {
			served = false
			err = c.Client.Do(func() (err error) {
				conn, err = (&net.Dialer{Timeout: o.Timeout}).DialContext(ctx, "tcp4", netip.AddrPortFrom(VIP, 80).String())
				return err
			})
			if err == nil {
				rd = bufio.NewReader(conn)
			}
		}
		closing := false
		if err == nil {
			closing, err = keepAliveGet(conn, rd, o.Timeout)
		}
		l.add(Result{Kind: LoadKeepAlive, Conn: n, Start: start, End: time.Now(), Err: err, Broken: err != nil && served})
		if err == nil {
			served = true
		}
		if (err != nil || closing) && conn != nil {
			conn.Close()
			conn = nil
		}
	}
}

// keepAliveGet sends one GET on conn and reads the answer; closing reports
// that the server closes the connection after it.
func keepAliveGet(conn net.Conn, rd *bufio.Reader, timeout time.Duration) (closing bool, err error) {
	if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		return false, err
	}
	if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: "+VIP.String()+"\r\n\r\n"); err != nil {
		return false, err
	}
	resp, err := http.ReadResponse(rd, nil)
	if err != nil {
		return false, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return false, err
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(body), "Hello from server-") {
		return resp.Close, fmt.Errorf("keep-alive GET: %s %q", resp.Status, body)
	}
	return resp.Close, nil
}

func (l *Load) add(r Result) {
	l.mu.Lock()
	l.results = append(l.results, r)
	l.mu.Unlock()
}

// Stop ends the load and waits for the requests in flight.
func (l *Load) Stop() {
	l.cancel()
	l.wg.Wait()
}

// Results returns the requests that started in [from, to), by start time.
func (l *Load) Results(from, to time.Time) []Result {
	l.mu.Lock()
	var out []Result
	for _, r := range l.results {
		if !r.Start.Before(from) && r.Start.Before(to) {
			out = append(out, r)
		}
	}
	l.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}

// Summary sums up a window of a load's results.
type Summary struct {
	Requests, Failed int
	FailedBy         map[Kind]int
	// LongestOutage is the longest time, over the kinds of request, from a
	// failed request to the next one of its kind that succeeded (or to the
	// end of the window).
	LongestOutage time.Duration
	// Broken counts the keep-alive connections that broke.
	Broken int
	// LastFailure is the end of the last failed request; zero if none.
	LastFailure time.Time
}

// Summarize sums up rs, results of one window ending at end.
func Summarize(rs []Result, end time.Time) Summary {
	s := Summary{FailedBy: map[Kind]int{}}
	outage := map[Kind]time.Time{} // start of the open outage per kind
	for _, r := range rs {
		s.Requests++
		if r.Err == nil {
			if t, ok := outage[r.Kind]; ok {
				s.LongestOutage = max(s.LongestOutage, r.Start.Sub(t))
				delete(outage, r.Kind)
			}
			continue
		}
		s.Failed++
		s.FailedBy[r.Kind]++
		if r.Broken {
			s.Broken++
		}
		if r.End.After(s.LastFailure) {
			s.LastFailure = r.End
		}
		if _, ok := outage[r.Kind]; !ok {
			outage[r.Kind] = r.Start
		}
	}
	for _, t := range outage {
		s.LongestOutage = max(s.LongestOutage, end.Sub(t))
	}
	return s
}

// Command healthcheck is the benchmark of the healthcheck Monitor: N TCP
// targets on loopback addresses (127.1.0.1 and up, one listener each)
// checked every interval for a duration, measured side by side with a bare
// Go loop that makes the same connections at the same rate.
//
//	go run ./internal/bench/healthcheck [-targets 10000] [-interval 1s] [-duration 30s]
//
// Each side runs in a child process of its own (this program re-executed),
// so that its CPU seconds (user+system, getrusage) and peak RSS (ru_maxrss)
// are its own; the listeners run in a third child. Lateness is when an
// attempt started minus when it was due. Only loopback addresses are used,
// every loop is bounded by -duration, and the children die with the parent.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/lvskit/lvskit/healthcheck"
)

type params struct {
	targets  int
	interval time.Duration
	duration time.Duration
	timeout  time.Duration
	port     int

	concurrency int
	cpuprofile  string
}

func main() {
	var p params
	role := flag.String("role", "", "internal: server, monitor or bare")
	flag.IntVar(&p.targets, "targets", 10000, "number of TCP targets (at most 60000)")
	flag.DurationVar(&p.interval, "interval", time.Second, "check interval of every target")
	flag.DurationVar(&p.duration, "duration", 30*time.Second, "how long each side runs")
	flag.DurationVar(&p.timeout, "timeout", time.Second, "timeout of one check")
	flag.IntVar(&p.port, "port", 18080, "TCP port of every target")
	flag.IntVar(&p.concurrency, "concurrency", 0, "the monitor's Config.Concurrency (0: its default)")
	flag.StringVar(&p.cpuprofile, "cpuprofile", "", "write a CPU profile of the monitor side to `FILE`")
	flag.Parse()
	if p.targets < 1 || p.targets > 60000 || p.concurrency < 0 || p.interval <= 0 || p.duration <= 0 || p.duration > 10*time.Minute || p.timeout <= 0 {
		fmt.Fprintln(os.Stderr, "healthcheck bench: want 1-60000 targets, a positive interval and timeout, a duration up to 10m")
		os.Exit(2)
	}
	raiseNoFile()
	var err error
	switch *role {
	case "":
		err = parent(p)
	case "server":
		err = server(p)
	case "monitor", "bare":
		if *role == "monitor" && p.cpuprofile != "" {
			f, err := os.Create(p.cpuprofile)
			if err == nil {
				pprof.StartCPUProfile(f)
				defer pprof.StopCPUProfile()
			}
		}
		var r report
		r, err = side(*role, p)
		if err == nil {
			err = json.NewEncoder(os.Stdout).Encode(r)
		}
	default:
		err = fmt.Errorf("unknown role %q", *role)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "healthcheck bench:", err)
		os.Exit(1)
	}
}

// raiseNoFile lifts the soft file limit to the hard one.
func raiseNoFile() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil && l.Cur < l.Max {
		l.Cur = l.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

// target returns the i-th loopback target address.
func target(i, port int) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 1, byte(i / 250), byte(i%250 + 1)}), uint16(port))
}

func childArgs(role string, p params) []string {
	return []string{"-cpuprofile", p.cpuprofile, "-concurrency", fmt.Sprint(p.concurrency), "-role", role, "-targets", fmt.Sprint(p.targets), "-interval", p.interval.String(),
		"-duration", p.duration.String(), "-timeout", p.timeout.String(), "-port", fmt.Sprint(p.port)}
}

func child(role string, p params) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, childArgs(role, p)...)
	cmd.Stderr = os.Stderr
	dieWithParent(cmd)
	return cmd, nil
}

func parent(p params) error {
	srv, err := child("server", p)
	if err != nil {
		return err
	}
	out, err := srv.StdoutPipe()
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() {
		srv.Process.Kill() // the PID this program started
		srv.Wait()
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		return fmt.Errorf("server child: %q, %v", line, err)
	}

	conc := p.concurrency
	if conc == 0 {
		conc = healthcheck.DefaultConcurrency
	}
	fmt.Printf("healthcheck benchmark: %d TCP targets %v-%v, every %v for %v, timeout %v, monitor concurrency %d\n",
		p.targets, target(0, p.port), target(p.targets-1, p.port), p.interval, p.duration, p.timeout, conc)
	fmt.Printf("%s, GOOS=%s GOARCH=%s, %d CPUs, GOMAXPROCS %d, load average %s\n\n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0), loadavg())

	reports := map[string]report{}
	for _, role := range []string{"bare", "monitor"} {
		cmd, err := child(role, p)
		if err != nil {
			return err
		}
		b, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("%s child: %w", role, err)
		}
		var r report
		if err := json.Unmarshal(b, &r); err != nil {
			return fmt.Errorf("%s child output %q: %w", role, b, err)
		}
		reports[role] = r
	}
	m, b := reports["monitor"], reports["bare"]
	row := func(name, mv, bv, ratio, goal string) {
		fmt.Printf("%-22s %14s %14s %8s   %s\n", name, mv, bv, ratio, goal)
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/1e6) }
	row("", "monitor", "bare loop", "ratio", "goal")
	row("checks", fmt.Sprint(m.Checks), fmt.Sprint(b.Checks), "", fmt.Sprintf("%d scheduled", p.targets*int(p.duration/p.interval)))
	row("failed checks", fmt.Sprint(m.Failed), fmt.Sprint(b.Failed), "", "0")
	row("CPU seconds", fmt.Sprintf("%.2f", m.CPU), fmt.Sprintf("%.2f", b.CPU), fmt.Sprintf("%.2fx", m.CPU/b.CPU), "monitor <= 1.5x bare")
	row("  user / system", fmt.Sprintf("%.2f / %.2f", m.User, m.Sys), fmt.Sprintf("%.2f / %.2f", b.User, b.Sys), "", "")
	row("peak RSS", fmt.Sprintf("%.1f MB", m.RSSMB), fmt.Sprintf("%.1f MB", b.RSSMB), fmt.Sprintf("%.2fx", m.RSSMB/b.RSSMB), "monitor <= 64 MB")
	row("lateness p50", ms(m.P50), ms(b.P50), "", "")
	row("lateness p99", ms(m.P99), ms(b.P99), "", "monitor < 50 ms")
	row("lateness max", ms(m.Max), ms(b.Max), "", "")
	row("check duration p50", ms(m.D50), ms(b.D50), "", "")
	row("check duration p99", ms(m.D99), ms(b.D99), "", "")
	fmt.Printf("\nload average after: %s (other processes share the CPUs; at saturation every figure degrades)\n", loadavg())
	if m.FirstFailure != "" || b.FirstFailure != "" {
		fmt.Printf("\nfirst failure: monitor %q, bare %q\n", m.FirstFailure, b.FirstFailure)
	}
	return nil
}

// loadavg returns the 1, 5 and 15 minute load averages, or "?".
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// server listens on every target address and closes what it accepts,
// until the parent kills it.
func server(p params) error {
	for i := range p.targets {
		ln, err := net.Listen("tcp", target(i, p.port).String())
		if err != nil {
			return fmt.Errorf("listening on target %d: %w", i, err)
		}
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					if ne, ok := err.(net.Error); ok && ne.Timeout() {
						continue
					}
					time.Sleep(10 * time.Millisecond)
					continue
				}
				c.Close()
			}
		}()
	}
	fmt.Println("ready")
	select {}
}

// report is what a side measured.
type report struct {
	Checks, Failed int64
	FirstFailure   string
	CPU, User, Sys float64
	RSSMB          float64
	P50, P99, Max  time.Duration
	// Duration of the attempts (connect and close).
	D50, D99 time.Duration
}

// lateness is a histogram of attempt lateness with 50µs buckets up to 5s.
type lateness struct {
	buckets [100000]atomic.Uint32
	over    atomic.Int64
	max     atomic.Int64
}

const bucketWidth = 50 * time.Microsecond

func (l *lateness) add(d time.Duration) {
	d = max(d, 0)
	for {
		m := l.max.Load()
		if int64(d) <= m || l.max.CompareAndSwap(m, int64(d)) {
			break
		}
	}
	if i := int(d / bucketWidth); i < len(l.buckets) {
		l.buckets[i].Add(1)
	} else {
		l.over.Add(1)
	}
}

// quantile returns the upper bound of the bucket holding quantile q.
func (l *lateness) quantile(q float64) time.Duration {
	var total int64
	for i := range l.buckets {
		total += int64(l.buckets[i].Load())
	}
	total += l.over.Load()
	want := int64(float64(total)*q + 0.5)
	var seen int64
	for i := range l.buckets {
		seen += int64(l.buckets[i].Load())
		if seen >= want {
			return time.Duration(i+1) * bucketWidth
		}
	}
	return time.Duration(l.max.Load())
}

// side runs the monitor or the bare loop for the duration.
func side(role string, p params) (report, error) {
	var (
		lat      lateness
		dur      lateness
		checks   atomic.Int64
		failed   atomic.Int64
		firstErr sync.Once
		first    string
	)
	fail := func(reason string) {
		failed.Add(1)
		firstErr.Do(func() { first = reason })
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(p.duration, cancel)
	if role == "monitor" {
		m, err := healthcheck.New(&healthcheck.Config{Concurrency: p.concurrency, Observe: func(o healthcheck.Observation) {
			checks.Add(1)
			lat.add(o.Started.Sub(o.Scheduled))
			dur.add(o.Latency)
			if !o.Result.Up {
				fail(o.Result.Reason)
			}
		}})
		if err != nil {
			return report{}, err
		}
		for i := range p.targets {
			addr := target(i, p.port)
			if err := m.Add(healthcheck.Target{Name: addr.String(), Interval: p.interval, Timeout: p.timeout,
				Checker: &healthcheck.TCP{Addr: addr}}); err != nil {
				return report{}, err
			}
		}
		go func() {
			for range m.Events() {
			}
		}()
		if err := m.Run(ctx); err != nil {
			return report{}, err
		}
	} else {
		// The bare loop: one goroutine per target, a random first offset,
		// then a dial at every interval on a fixed schedule; like the
		// monitor, it skips the slots it missed instead of catching up.
		start := time.Now()
		end := start.Add(p.duration)
		var wg sync.WaitGroup
		for i := range p.targets {
			addr := target(i, p.port).String()
			next := start.Add(time.Duration(rand.Int64N(int64(p.interval))))
			wg.Go(func() {
				d := net.Dialer{Timeout: p.timeout}
				for ; next.Before(end); next = next.Add(p.interval) {
					time.Sleep(time.Until(next))
					began := time.Now()
					lat.add(began.Sub(next))
					c, err := d.Dial("tcp", addr)
					checks.Add(1)
					if err != nil {
						fail(err.Error())
					} else {
						c.Close()
					}
					dur.add(time.Since(began))
					for now := time.Now(); next.Add(p.interval).Before(now); {
						next = next.Add(p.interval)
					}
				}
			})
		}
		wg.Wait()
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return report{}, err
	}
	user := time.Duration(ru.Utime.Nano()).Seconds()
	sys := time.Duration(ru.Stime.Nano()).Seconds()
	return report{
		Checks: checks.Load(), Failed: failed.Load(), FirstFailure: first,
		CPU: user + sys, User: user, Sys: sys,
		RSSMB: float64(ru.Maxrss) / 1024, // ru_maxrss is in KiB on Linux
		P50:   lat.quantile(0.50), P99: lat.quantile(0.99), Max: time.Duration(lat.max.Load()),
		D50: dur.quantile(0.50), D99: dur.quantile(0.99),
	}, nil
}

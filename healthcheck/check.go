package healthcheck

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"
)

// DefaultTimeout is the timeout of a check whose Timeout field is zero.
const DefaultTimeout = 5 * time.Second

// ErrUnsupported is returned (wrapped) by options that the operating system
// cannot honour, such as binding to an interface outside Linux.
var ErrUnsupported = errors.New("healthcheck: not supported on this operating system")

// Checker is one kind of health check against one target. Check blocks until
// the check is decided, the checker's own timeout expires, or ctx is done,
// whichever comes first; it never returns a Result with Up set after ctx is
// done. Implementations must be safe for use by several goroutines.
type Checker interface {
	Check(ctx context.Context) Result
}

// CheckerFunc adapts a function to the Checker interface.
type CheckerFunc func(ctx context.Context) Result

// Check calls f(ctx).
func (f CheckerFunc) Check(ctx context.Context) Result { return f(ctx) }

// Result is the outcome of one check.
type Result struct {
	// Up reports whether the target is healthy.
	Up bool
	// Reason says briefly why, e.g. "connected", "status 500",
	// "connect: connection refused".
	Reason string
	// Err is the underlying error of a failed check, if any, for errors.Is.
	Err error
	// Weight is the weight the check asks for when HasWeight is set
	// (an exec check with Dynamic set, keepalived's misc_dynamic).
	Weight    int
	HasWeight bool
}

// String formats r as "up: REASON" or "down: REASON".
func (r Result) String() string {
	s := "down"
	if r.Up {
		s = "up"
	}
	if r.HasWeight {
		s += fmt.Sprintf(" (weight %d)", r.Weight)
	}
	if r.Reason != "" {
		s += ": " + r.Reason
	}
	return s
}

func up(reason string) Result { return Result{Up: true, Reason: reason} }

// down builds a failed Result from err, naming timeouts and cancellation
// plainly so that the reason reads well in a log line: op names the step
// that failed ("connect", "read reply", ...).
func down(ctx context.Context, op string, err error, timeout time.Duration) Result {
	var reason string
	switch {
	case errors.Is(ctx.Err(), context.Canceled) && !errors.Is(ctx.Err(), context.DeadlineExceeded):
		reason = op + " canceled"
	case ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		reason = fmt.Sprintf("%s timed out after %v", op, timeout)
	default:
		reason = op + ": " + trimOpError(err)
	}
	return Result{Reason: reason, Err: err}
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// trimOpError drops the "dial tcp 1.2.3.4:5: " prefix of a net.OpError,
// keeping the errno text ("connection refused").
func trimOpError(err error) string {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		err = oe.Err
	}
	var se *os.SyscallError
	if errors.As(err, &se) && se.Err != nil {
		err = se.Err
	}
	return err.Error()
}

// withTimeout derives the context of one check: the checker's own timeout,
// or DefaultTimeout, bounded by any deadline ctx already has. Without a
// timeout of its own the check simply keeps ctx's deadline (a Monitor sets
// one for every attempt), which saves a timer per check.
func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc, time.Duration) {
	dl, hasDeadline := ctx.Deadline()
	if hasDeadline {
		left := time.Until(dl).Round(time.Millisecond)
		if d <= 0 || left <= d {
			return ctx, func() {}, left
		}
	}
	if d <= 0 {
		d = DefaultTimeout
	}
	c, cancel := context.WithTimeout(ctx, d)
	return c, cancel, d
}

// Bind holds the optional socket binding of a network checker.
type Bind struct {
	// Source is the local address to send from; the zero Addr lets the
	// kernel choose.
	Source netip.Addr
	// Interface binds the socket to a network interface (SO_BINDTODEVICE,
	// Linux only; needs CAP_NET_RAW on older kernels).
	Interface string
	// SourcePort is the local port to send from (keepalived's bind_port);
	// zero lets the kernel choose. The socket is bound with SO_REUSEADDR,
	// so that a check can reuse the port while an earlier connection from
	// it is in TIME_WAIT.
	SourcePort uint16
	// Mark is the firewall mark of the check's packets (SO_MARK, Linux
	// only; needs CAP_NET_ADMIN; keepalived's fwmark); zero sets none.
	Mark uint32
}

func checkAddr(field string, ap netip.AddrPort) error {
	if !ap.IsValid() || ap.Port() == 0 {
		return fmt.Errorf("healthcheck: %s %q: want IP:PORT with a non-zero port", field, ap.String())
	}
	return nil
}

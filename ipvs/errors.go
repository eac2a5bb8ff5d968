package ipvs

import (
	"errors"
	"strings"

	"golang.org/x/sys/unix"
)

// Sentinel errors. An *OpError matches them with errors.Is, and also unwraps
// to the kernel's errno (unix.EEXIST, unix.ESRCH, unix.ENOENT, ...).
var (
	// ErrNotAvailable: the kernel has no IPVS (the generic netlink family
	// "IPVS" does not exist, or the module cannot be loaded).
	ErrNotAvailable = errors.New("ipvs: IPVS is not available in this kernel")
	// ErrExists: the service, destination or sync daemon already exists.
	ErrExists = errors.New("ipvs: already exists")
	// ErrServiceNotFound: no such virtual service.
	ErrServiceNotFound = errors.New("ipvs: service not found")
	// ErrDaemonNotRunning: no sync daemon runs in the state to stop.
	ErrDaemonNotRunning = errors.New("ipvs: sync daemon not running")
	// ErrDestinationNotFound: no such destination in the service.
	ErrDestinationNotFound = errors.New("ipvs: destination not found")
	// ErrSchedulerNotAvailable: the scheduler (or persistence engine) module
	// is not available.
	ErrSchedulerNotAvailable = errors.New("ipvs: scheduler or persistence engine not available")
)

// OpError is the error of one IPVS operation.
type OpError struct {
	// Op is the operation, such as "add-service" or "list-destinations".
	Op string
	// Target names the object, such as "TCP 10.0.0.1:80 -> 10.1.0.1:80".
	// It may be empty.
	Target string
	// Err is the cause; for a kernel refusal it is a unix.Errno.
	Err error
	// Index is, for an error of Apply, the position of the failed operation
	// in the list given to Apply; zero otherwise.
	Index int
}

func (e *OpError) Error() string {
	var b strings.Builder
	b.WriteString("ipvs ")
	b.WriteString(e.Op)
	if e.Target != "" {
		b.WriteString(" ")
		b.WriteString(e.Target)
	}
	b.WriteString(": ")
	b.WriteString(describeErr(e.Op, e.Err))
	return b.String()
}

// Unwrap returns the cause.
func (e *OpError) Unwrap() error { return e.Err }

// Is reports whether the error means one of the package's sentinels.
func (e *OpError) Is(target error) bool {
	var errno unix.Errno
	if !errors.As(e.Err, &errno) {
		return false
	}
	switch target {
	case ErrNotAvailable:
		return e.Op == "resolve-family" && (errno == unix.ENOENT || errno == unix.EPROTONOSUPPORT)
	case ErrExists:
		return errno == unix.EEXIST
	case ErrServiceNotFound:
		return errno == unix.ESRCH && e.Op != "stop-daemon"
	case ErrDaemonNotRunning:
		return errno == unix.ESRCH && e.Op == "stop-daemon"
	case ErrDestinationNotFound:
		return errno == unix.ENOENT && isDestOp(e.Op)
	case ErrSchedulerNotAvailable:
		return errno == unix.ENOENT && (e.Op == "add-service" || e.Op == "update-service")
	}
	return false
}

func isDestOp(op string) bool {
	return op == "update-destination" || op == "delete-destination"
}

// describeErr gives the kernel's errno a meaning for the operation, as
// ipvsadm does.
func describeErr(op string, err error) string {
	var errno unix.Errno
	if !errors.As(err, &errno) {
		return err.Error()
	}
	switch {
	case op == "dial":
		// Target names the system call; the meanings below are the
		// kernel's answers to IPVS requests, not to socket or setns.
		return errno.Error()
	case op == "resolve-family" && errno == unix.ENOENT:
		return "IPVS is not available in this kernel (no generic netlink family IPVS): " + errno.Error()
	case errno == unix.EEXIST:
		return "already exists (" + errno.Error() + ")"
	case errno == unix.ESRCH && op == "stop-daemon":
		return "no daemon is running (" + errno.Error() + ")"
	case errno == unix.ESRCH:
		return "service not found (" + errno.Error() + ")"
	case errno == unix.ENOENT && isDestOp(op):
		return "destination not found (" + errno.Error() + ")"
	case errno == unix.ENOENT && (op == "add-service" || op == "update-service"):
		return "scheduler or persistence engine not found (" + errno.Error() + ")"
	case errno == unix.EINVAL:
		return "invalid argument: missing attribute, or address not unicast (" + errno.Error() + ")"
	case errno == unix.EPERM:
		return "permission denied, CAP_NET_ADMIN needed (" + errno.Error() + ")"
	case errno == unix.ERANGE:
		return "weight or threshold out of range (" + errno.Error() + ")"
	}
	return errno.Error()
}

// ApplyError reports every operation of an Apply that failed.
type ApplyError struct {
	// Errors are in the order of the operations.
	Errors []*OpError
}

func (e *ApplyError) Error() string {
	var b strings.Builder
	b.WriteString("ipvs apply: ")
	for i, err := range e.Errors {
		if i == 5 {
			b.WriteString("; ...")
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(err.Error())
	}
	if len(e.Errors) > 5 {
		b.WriteString(" (")
		b.WriteString(itoa(len(e.Errors)))
		b.WriteString(" failed operations)")
	}
	return b.String()
}

// Unwrap returns the failures, so errors.Is matches any of them.
func (e *ApplyError) Unwrap() []error {
	errs := make([]error, len(e.Errors))
	for i, err := range e.Errors {
		errs[i] = err
	}
	return errs
}

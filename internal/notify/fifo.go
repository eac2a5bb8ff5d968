package notify

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"syscall"
)

// FIFO is keepalived's notify FIFO (notify_fifo, vrrp_notify_fifo): a
// named pipe to which a line is written for each change of state of an
// instance or a sync group, in keepalived's format (see FIFOLine). Writes
// never wait for a reader: a line that does not fit in the pipe is
// dropped, as keepalived's non-blocking writes drop it.
type FIFO struct {
	path    string
	created bool

	mu sync.Mutex
	f  *os.File
}

// OpenFIFO opens the FIFO at path as keepalived does: it is created (mode
// 0644) if it does not exist, and then owned by uid and gid when they
// are not the caller's (-1 leaves one as it is); an existing FIFO is used
// as it is. A path that exists and is not a FIFO, or a symbolic link, is
// an error. Close removes a FIFO that OpenFIFO created.
func OpenFIFO(path string, uid, gid int) (*FIFO, error) {
	q := &FIFO{path: path}
	err := syscall.Mkfifo(path, 0o644)
	switch {
	case err == nil:
		q.created = true
		if (uid >= 0 && uid != os.Getuid()) || (gid >= 0 && gid != os.Getgid()) {
			if err := os.Lchown(path, uid, gid); err != nil {
				os.Remove(path)
				return nil, fmt.Errorf("notify fifo %s: %w", path, err)
			}
		}
	case !errors.Is(err, syscall.EEXIST):
		return nil, fmt.Errorf("notify fifo %s: %w", path, err)
	}
	// Read-write, so that the open does not wait for a reader and the
	// pipe stays open between readers.
	fd, err := syscall.Open(path, syscall.O_RDWR|syscall.O_CLOEXEC|syscall.O_NONBLOCK|syscall.O_NOFOLLOW, 0)
	if err == nil {
		var st syscall.Stat_t
		if err = syscall.Fstat(fd, &st); err == nil && st.Mode&syscall.S_IFMT != syscall.S_IFIFO {
			err = errors.New("not a FIFO")
		}
		if err != nil {
			syscall.Close(fd)
		}
	}
	if err != nil {
		if q.created {
			os.Remove(path)
		}
		return nil, fmt.Errorf("notify fifo %s: %w", path, err)
	}
	q.f = os.NewFile(uintptr(fd), path)
	return q, nil
}

// FIFOLine is keepalived's line for a change of state: `INSTANCE "NAME"
// STATE PRIORITY` or, for a sync group, `GROUP "NAME" STATE 0`.
func FIFOLine(group bool, name, state string, priority int) string {
	kind := "INSTANCE"
	if group {
		kind, priority = "GROUP", 0
	}
	return kind + " \"" + name + "\" " + state + " " + strconv.Itoa(priority) + "\n"
}

// Write writes line to the FIFO without waiting: if the pipe is full the
// line is dropped and an error says so.
func (q *FIFO) Write(line string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.f == nil {
		return errors.New("notify fifo " + q.path + ": closed")
	}
	// One non-blocking write, never a wait for room: the callback says
	// the write is done whatever it returned (EAGAIN: the pipe is full).
	// A deadline would also fail a write that had room when the process
	// is slow to reach it.
	rc, err := q.f.SyscallConn()
	if err != nil {
		return fmt.Errorf("notify fifo %s: %w", q.path, err)
	}
	var n int
	var werr error
	if err := rc.Write(func(fd uintptr) bool {
		n, werr = syscall.Write(int(fd), []byte(line))
		return true
	}); err != nil {
		werr = err
	}
	switch {
	case werr != nil:
		return fmt.Errorf("notify fifo %s: line dropped: %w", q.path, werr)
	case n < len(line):
		return fmt.Errorf("notify fifo %s: line cut after %d of %d bytes", q.path, n, len(line))
	}
	return nil
}

// Close removes the FIFO if OpenFIFO created it and closes it: removed
// first, as keepalived does, so that a reader that opens it again once it
// sees the end cannot.
func (q *FIFO) Close() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.f == nil {
		return nil
	}
	var err error
	if q.created {
		err = os.Remove(q.path)
	}
	if e := q.f.Close(); err == nil {
		err = e
	}
	q.f = nil
	return err
}

package healthcheck

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// vforkReq is what vforkExec's child works from. The assembly reads its
// fields at fixed offsets (vfork_linux_amd64.s); every field is a machine
// word, and TestVforkReqLayout checks the offsets.
type vforkReq struct {
	path, argv, envv, dir uintptr // *byte, **byte, **byte, *byte (0: stay)
	stdin, stdout         uintptr // descriptors, 3 or above
	setpgid               uintptr // 1: a process group of its own
	setCred               uintptr // 1: setgroups (if ngroups >= 0), setgid, setuid
	ngroups, groups       uintptr // setgroups' arguments; ngroups ^0 skips it
	gid, uid              uintptr
	full, old             uintptr // *uint64: every signal; the mask to restore
	clone                 uintptr // *cloneArgs
	dfl, query            uintptr // *kernelSigaction: SIG_DFL; scratch
	errno                 uintptr // written by a child that failed
	nofile                uintptr // *unix.Rlimit: RLIMIT_NOFILE to set (0: keep)

	mem vforkMem // what the words above point into, but for strings
}

// vforkMem is the memory of a vforkReq that the kernel and the child use.
type vforkMem struct {
	full, old  uint64 // signal masks
	clone      cloneArgs
	dfl, query kernelSigaction
	nofile     unix.Rlimit
	pidfd      int32 // written by clone3
}

// cloneArgs is struct clone_args up to tls (CLONE_ARGS_SIZE_VER0, 64 bytes).
type cloneArgs struct {
	flags, pidfd, childTID, parentTID, exitSignal, stack, stackSize, tls uint64
}

// kernelSigaction is the kernel's struct sigaction on amd64.
type kernelSigaction struct {
	handler, flags, restorer, mask uint64
}

// vforkExec is in vfork_linux_amd64.s.
func vforkExec(r *vforkReq) (pid uintptr, errno uintptr)

// noClone3 is set once clone3 proved unusable (a kernel before 5.3, or a
// seccomp filter refusing it): forkExec then uses syscall.ForkExec.
var noClone3 atomic.Bool

// forkExec starts argv0 with argv and env in a process group of its own,
// in dir (empty: here), as cred (nil: as the caller), standard input
// stdin and standard output and error stdout, and returns its PID and a
// pidfd for it.
//
// It forks with clone3(CLONE_VM|CLONE_VFORK|CLONE_PIDFD) from assembly
// that makes no call through the runtime's system-call path: in an idle
// daemon each such call wakes the runtime's monitor thread, which then
// polls every 20 µs and may hand the processor to another thread while
// the call lasts; syscall.ForkExec makes three (two closes and a read of
// its status pipe). The child reports a failed step through memory it
// shares with the caller until it calls execve, instead of a pipe. Where
// clone3 is refused, syscall.ForkExec does the work.
func forkExec(argv0 string, argv, env []string, dir string, stdin, stdout int, cred *syscall.Credential) (pid, pidfd int, err error) {
	if noClone3.Load() {
		return forkExecStd(argv0, argv, env, dir, stdin, stdout, cred)
	}
	path, err := syscall.BytePtrFromString(argv0)
	if err != nil {
		return 0, -1, err
	}
	argvp, err := syscall.SlicePtrFromStrings(argv)
	if err != nil {
		return 0, -1, err
	}
	envp, err := syscall.SlicePtrFromStrings(env)
	if err != nil {
		return 0, -1, err
	}
	var dirp *byte
	if dir != "" {
		if dirp, err = syscall.BytePtrFromString(dir); err != nil {
			return 0, -1, err
		}
	}
	// The child's descriptors go to 0, 1 and 2 by dup2, which must not
	// find one of them there already.
	in, err := above2(stdin)
	if err != nil {
		return 0, -1, err
	}
	if in != stdin {
		defer closeRaw(in)
	}
	out, err := above2(stdout)
	if err != nil {
		return 0, -1, err
	}
	if out != stdout {
		defer closeRaw(out)
	}

	var (
		groups    []uint32
		groupsPtr uintptr
		setCred   uintptr
		ngroups   = ^uintptr(0)
		gid, uid  uintptr
	)
	if cred != nil {
		setCred, gid, uid = 1, uintptr(cred.Gid), uintptr(cred.Uid)
		if !cred.NoSetGroups {
			groups = cred.Groups
			ngroups = uintptr(len(groups))
			if len(groups) > 0 {
				groupsPtr = uintptr(unsafe.Pointer(&groups[0]))
			}
		}
	}
	r := &vforkReq{
		path: uintptr(unsafe.Pointer(path)), argv: uintptr(unsafe.Pointer(&argvp[0])), envv: uintptr(unsafe.Pointer(&envp[0])),
		dir: uintptr(unsafe.Pointer(dirp)), stdin: uintptr(in), stdout: uintptr(out), setpgid: 1,
		setCred: setCred, ngroups: ngroups, groups: groupsPtr, gid: gid, uid: uid,
	}
	// What the kernel and the child read and write through r's words
	// lives in r itself: r goes to the assembly, so the compiler reads
	// it again afterwards (a local whose address only a uintptr holds
	// could be assumed unchanged).
	m := &r.mem
	m.full, m.pidfd = ^uint64(0), -1
	m.clone = cloneArgs{flags: unix.CLONE_VM | unix.CLONE_VFORK | unix.CLONE_PIDFD, exitSignal: uint64(unix.SIGCHLD),
		pidfd: uint64(uintptr(unsafe.Pointer(&m.pidfd)))}
	r.full, r.old = uintptr(unsafe.Pointer(&m.full)), uintptr(unsafe.Pointer(&m.old))
	r.clone, r.dfl, r.query = uintptr(unsafe.Pointer(&m.clone)), uintptr(unsafe.Pointer(&m.dfl)), uintptr(unsafe.Pointer(&m.query))
	// The open-files limit this process had before the runtime raised
	// it, as syscall.ForkExec gives its children, unless it was changed
	// since.
	if lim := childNofile(); lim != nil {
		if _, _, e := unix.RawSyscall6(unix.SYS_PRLIMIT64, 0, unix.RLIMIT_NOFILE, 0, uintptr(unsafe.Pointer(&m.nofile)), 0, 0); e == 0 &&
			m.nofile.Cur == lim.Max-1 && m.nofile.Max == lim.Max {
			m.nofile = *lim
			r.nofile = uintptr(unsafe.Pointer(&m.nofile))
		}
	}
	syscall.ForkLock.Lock()
	p, errno := vforkExec(r)
	syscall.ForkLock.Unlock()
	// The child read these through the words in r, which the collector
	// does not follow.
	runtime.KeepAlive(path)
	runtime.KeepAlive(argvp)
	runtime.KeepAlive(envp)
	runtime.KeepAlive(dirp)
	runtime.KeepAlive(groups)
	runtime.KeepAlive(r)
	if errno != 0 {
		if e := syscall.Errno(errno); e == syscall.ENOSYS || e == syscall.EPERM {
			noClone3.Store(true)
			return forkExecStd(argv0, argv, env, dir, stdin, stdout, cred)
		}
		return 0, -1, syscall.Errno(errno)
	}
	if r.errno != 0 {
		// The child exited with 127 before or in execve; reap it.
		var info unix.Siginfo
		for {
			_, _, e := unix.Syscall6(unix.SYS_WAITID, unix.P_PIDFD, uintptr(m.pidfd), uintptr(unsafe.Pointer(&info)), unix.WEXITED, 0, 0)
			if e != unix.EINTR {
				break
			}
		}
		closeRaw(int(m.pidfd))
		return 0, -1, syscall.Errno(r.errno)
	}
	return int(p), int(m.pidfd), nil
}

// above2 returns fd if it is 3 or above, else a close-on-exec duplicate
// that is.
func above2(fd int) (int, error) {
	if fd > 2 {
		return fd, nil
	}
	r, _, e := unix.RawSyscall(unix.SYS_FCNTL, uintptr(fd), unix.F_DUPFD_CLOEXEC, 3)
	if e != 0 {
		return -1, e
	}
	return int(r), nil
}

// childNofile returns the open-files limit syscall.ForkExec gives a
// program, or nil when it gives the caller's own. At start the runtime
// raises this process's soft limit to the hard limit less one, and
// syscall.ForkExec puts the original back in each child, so that programs
// that still use select(2), or close every descriptor up to the limit,
// work as they would when started by anything else. The original is not
// exported: it is learned once from a child that syscall.ForkExec starts
// traced, stopped at its execve before it runs an instruction, whose
// limits are read and which is then killed. Where tracing is refused,
// programs get this process's limit.
var childNofile = sync.OnceValue(func() *unix.Rlimit {
	var cur unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &cur) != nil || cur.Max == 0 || cur.Cur != cur.Max-1 {
		return nil // not raised by the runtime: children inherit it
	}
	runtime.LockOSThread() // the tracer is this thread
	defer runtime.UnlockOSThread()
	exe := "/proc/self/exe"
	pid, err := syscall.ForkExec(exe, []string{exe}, &syscall.ProcAttr{Sys: &syscall.SysProcAttr{Ptrace: true}})
	if err != nil {
		return nil
	}
	defer func() {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		var ws syscall.WaitStatus
		for {
			if _, err := syscall.Wait4(pid, &ws, 0, nil); err != syscall.EINTR {
				return
			}
		}
	}()
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil || !ws.Stopped() {
		return nil
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		return nil
	}
	lim, ok := parseNofile(string(b))
	if !ok || lim == cur {
		return nil
	}
	return &lim
})

// parseNofile reads the "Max open files" line of /proc/PID/limits.
func parseNofile(limits string) (unix.Rlimit, bool) {
	for line := range strings.Lines(limits) {
		rest, ok := strings.CutPrefix(line, "Max open files")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) < 2 {
			return unix.Rlimit{}, false
		}
		var lim unix.Rlimit
		for i, p := range []*uint64{&lim.Cur, &lim.Max} {
			if f[i] == "unlimited" {
				*p = unix.RLIM_INFINITY
				continue
			}
			v, err := strconv.ParseUint(f[i], 10, 64)
			if err != nil {
				return unix.Rlimit{}, false
			}
			*p = v
		}
		return lim, true
	}
	return unix.Rlimit{}, false
}

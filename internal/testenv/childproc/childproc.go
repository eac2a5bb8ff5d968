package childproc

import (
	"os/exec"
	"runtime"
)

// Start starts cmd so that the kernel kills it (SIGKILL) when the calling
// process dies, on Linux, and then runs wait, which must wait for cmd to
// exit (after reading its pipes, if it has any). Start returns once cmd has
// started, with cmd.Process set, or with the error of starting it; wait runs
// in the background only when cmd started.
//
// The kernel sends that signal when the OS thread that started the child
// ends, not the process, and a thread can end while the process goes on (a
// goroutine that locked it into a network namespace returns). cmd is
// therefore started, and wait run, on a thread locked for the child's whole
// life.
func Start(cmd *exec.Cmd, wait func()) error {
	setDeathSignal(cmd)
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		wait()
	}()
	return <-started
}

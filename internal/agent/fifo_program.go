package agent

import (
	"log/slog"
	"os/exec"
	"syscall"
	"time"

	"github.com/lvskit/lvskit/internal/config"
)

// programGrace is how long a notify_fifo_script has to exit once its FIFO
// is closed, before SIGTERM (and SIGKILL as long again after).
const programGrace = 5 * time.Second

// fifoProgram is a running notify_fifo_script.
type fifoProgram struct {
	cmd  *exec.Cmd
	done chan struct{}
	log  *slog.Logger
}

// startFIFOProgram starts prog with the FIFO's path as its last argument,
// as cred (nil: as the agent), in a process group of its own, as
// keepalived starts a notify_fifo_script once the FIFO exists; its exit
// is logged.
func startFIFOProgram(prog config.Command, path string, cred *syscall.Credential, log *slog.Logger) (*fifoProgram, error) {
	args := append(append([]string(nil), prog[1:]...), path)
	cmd := exec.Command(prog[0], args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: cred}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	r := &fifoProgram{cmd: cmd, done: make(chan struct{}), log: log}
	log.Info("notify fifo: started notify_fifo_script", "fifo", path, "program", prog[0], "pid", cmd.Process.Pid)
	go func() {
		err := cmd.Wait()
		close(r.done)
		log.Info("notify fifo: notify_fifo_script terminated", "fifo", path, "status", exitStatus(err))
	}()
	return r, nil
}

func exitStatus(err error) string {
	if err == nil {
		return "exit 0"
	}
	return err.Error()
}

// signal sends sig to the program's process group.
func (r *fifoProgram) signal(sig syscall.Signal) {
	select {
	case <-r.done:
	default:
		_ = syscall.Kill(-r.cmd.Process.Pid, sig)
	}
}

// stop waits grace for the program to exit (its FIFO closed), then sends
// its process group SIGTERM, and SIGKILL after grace again.
func (r *fifoProgram) stop(grace time.Duration) {
	for _, sig := range []syscall.Signal{0, syscall.SIGTERM, syscall.SIGKILL} {
		if sig != 0 {
			_ = syscall.Kill(-r.cmd.Process.Pid, sig)
		}
		t := time.NewTimer(grace)
		select {
		case <-r.done:
			t.Stop()
			return
		case <-t.C:
		}
	}
	r.log.Error("notify fifo: notify_fifo_script does not exit", "pid", r.cmd.Process.Pid)
}

package childproc

import (
	"errors"
	"os/exec"
	"testing"
)

func TestStartRunsWaitAfterAStart(t *testing.T) {
	cmd := exec.Command("sh", "-c", "exit 3")
	done := make(chan error, 1)
	if err := Start(cmd, func() { done <- cmd.Wait() }); err != nil {
		t.Fatal(err)
	}
	if cmd.Process == nil {
		t.Fatal("Start returned without cmd.Process")
	}
	var exit *exec.ExitError
	if err := <-done; !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("wait got %v, want exit status 3", err)
	}
}

func TestStartFailureSkipsWait(t *testing.T) {
	cmd := exec.Command("/nonexistent/lvskit-childproc-test")
	if err := Start(cmd, func() { t.Error("wait ran for a command that did not start") }); err == nil {
		t.Fatal("Start of a missing program succeeded")
	}
}

//go:build linux && !amd64

package healthcheck

import "syscall"

// forkExec starts argv0 as spawn needs it; see forkExecStd.
func forkExec(argv0 string, argv, env []string, dir string, stdin, stdout int, cred *syscall.Credential) (pid, pidfd int, err error) {
	return forkExecStd(argv0, argv, env, dir, stdin, stdout, cred)
}

package healthcheck

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/netnstest"
)

// With a Credential the program runs as that user, with that group as its
// only one; without, as the caller.
func TestIntegrationExecCredential(t *testing.T) {
	netnstest.RequirePrivileged(t)
	nobody := &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{65534}}
	argv := []string{"/bin/sh", "-c", `echo "$(id -u):$(id -g):$(id -G)"`}
	for _, tt := range []struct {
		name string
		cred *syscall.Credential
		want string
	}{
		{"as nobody", nobody, "exit status 0: 65534:65534:65534"},
		{"as the caller", nil, "exit status 0: 0:0:0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := Exec{Argv: argv, Credential: tt.cred}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			r := e.Check(ctx)
			// The caller's supplementary groups follow its own group.
			if !r.Up || !strings.HasPrefix(r.Reason, tt.want) || (tt.cred != nil && r.Reason != tt.want) {
				t.Errorf("Check: %+v, want up with reason %q", r, tt.want)
			}
		})
	}
}

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
// only one, whether forked by spawn or by os/exec; without, as the caller.
func TestIntegrationExecCredential(t *testing.T) {
	netnstest.RequirePrivileged(t)
	devNull, ok := spawnSupport()
	if !ok {
		t.Fatal("no raw spawn on this kernel (pidfds need Linux 5.3)")
	}
	nobody := &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{65534}}
	argv := []string{"/bin/sh", "-c", `echo "$(id -u):$(id -g):$(id -G)"`}
	for _, tt := range []struct {
		name string
		cred *syscall.Credential
		want string
	}{
		{"as nobody", nobody, "65534:65534:65534"},
		{"as the caller", nil, "0:0:"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := Exec{Argv: argv, Credential: tt.cred}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			for _, run := range []struct {
				how string
				fn  func(*headBuffer) (int, error)
			}{
				{"spawn", func(o *headBuffer) (int, error) { return e.spawn(ctx, o, devNull) }},
				{"os/exec", func(o *headBuffer) (int, error) { return e.command(ctx, o) }},
			} {
				o := &headBuffer{max: 4096}
				code, err := run.fn(o)
				got := strings.TrimSpace(o.buf.String())
				if code != 0 || err != nil || !strings.HasPrefix(got, tt.want) {
					t.Errorf("%s: exit %d, err %v, output %q; want exit 0 and output starting %q", run.how, code, err, got, tt.want)
				}
			}
			if r := e.Check(ctx); !r.Up {
				t.Errorf("Check: %+v, want up", r)
			}
		})
	}
}

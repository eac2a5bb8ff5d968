package notify

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/netnstest"
)

// A runner given a credential runs its programs as that user and group.
func TestIntegrationRunsAsCredential(t *testing.T) {
	netnstest.RequirePrivileged(t)
	dir, err := os.MkdirTemp("", "lvskit-notify-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "id")
	r := New(5*time.Second, nil, &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{65534}})
	r.Enqueue([]string{"/bin/sh", "-c", `echo "$(id -u):$(id -g):$(id -G)" > ` + out})
	r.Close(20 * time.Second)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(b)); got != "65534:65534:65534" {
		t.Errorf("the program ran as %q, want 65534:65534:65534", got)
	}
	st, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if uid := st.Sys().(*syscall.Stat_t).Uid; uid != 65534 {
		t.Errorf("its file is owned by uid %d, want 65534", uid)
	}
}

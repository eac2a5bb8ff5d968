package proxyconf

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ErrNoStream is returned by StreamModule when nginx has no stream module.
var ErrNoStream = errors.New("proxyconf: nginx is built without the stream module")

// StreamModule reads `nginx -V` and returns what Global.Modules needs for
// Streams: the path of the dynamic stream module (DebianStreamModule on
// Debian), or "" when the module is compiled in. It returns ErrNoStream
// when nginx has no stream module, and an error naming the path when the
// dynamic module is not installed (libnginx-mod-stream on Debian).
func (n *Nginx) StreamModule(ctx context.Context) (string, error) {
	cmd, err := n.command(ctx, []string{"-V"})
	if err != nil {
		return "", err
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", &CommandError{Args: []string{n.binary(), "-V"}, Output: strings.TrimSpace(string(out)), Err: err}
	}
	var prefix, modules string
	dynamic, static := false, false
	for _, f := range strings.Fields(string(out)) {
		switch {
		case f == "--with-stream":
			static = true
		case f == "--with-stream=dynamic":
			dynamic = true
		case strings.HasPrefix(f, "--prefix="):
			prefix = strings.TrimPrefix(f, "--prefix=")
		case strings.HasPrefix(f, "--modules-path="):
			modules = strings.TrimPrefix(f, "--modules-path=")
		}
	}
	switch {
	case static:
		return "", nil
	case !dynamic:
		return "", ErrNoStream
	}
	if modules == "" {
		if prefix == "" {
			prefix = "/usr/local/nginx"
		}
		modules = filepath.Join(prefix, "modules")
	}
	p := filepath.Join(modules, "ngx_stream_module.so")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("proxyconf: nginx loads the stream module from %s: %w", p, err)
	}
	return p, nil
}

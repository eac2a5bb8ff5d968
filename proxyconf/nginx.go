package proxyconf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Nginx runs the nginx program for one configuration: it tests
// configurations with `nginx -t`, installs them and reloads the running
// master with `nginx -s reload`. The zero value uses "nginx" from PATH with
// its compiled-in prefix and configuration file. Calls that write the same
// configuration directory must not run concurrently.
type Nginx struct {
	// Binary is the nginx program; "" means "nginx" looked up in PATH.
	Binary string
	// Prefix is passed as -p when set. Relative paths of the configuration
	// (pid, logs, temporary directories) are relative to it.
	Prefix string
	// ConfigFile is passed as -c when set; Install and Apply need it, as
	// the configuration directory is its directory. Its name must be
	// MainFile.
	ConfigFile string
	// ErrorLog is passed as -e, the log nginx uses until it has read the
	// configuration; "" means os.DevNull (messages still reach stderr).
	ErrorLog string
	// NetNS, when set, runs nginx inside that named network namespace
	// (`ip netns exec NAME`, Linux only).
	NetNS string
}

// CommandError is returned when nginx fails. Output is what nginx printed
// (its own message, e.g. `nginx: [emerg] unknown directive "x" in
// /etc/nginx/nginx.conf:3`).
type CommandError struct {
	Args   []string
	Output string
	Err    error
}

func (e *CommandError) Error() string {
	msg := strings.Join(strings.Fields(strings.ReplaceAll(e.Output, "\n", " ; ")), " ")
	if msg == "" {
		return fmt.Sprintf("proxyconf: %s: %v", strings.Join(e.Args, " "), e.Err)
	}
	return fmt.Sprintf("proxyconf: %s: %v: %s", strings.Join(e.Args, " "), e.Err, msg)
}

func (e *CommandError) Unwrap() error { return e.Err }

func (n *Nginx) binary() string {
	if n.Binary == "" {
		return "nginx"
	}
	return n.Binary
}

// Args returns nginx's arguments for this configuration (-p, -c, -e)
// followed by extra, e.g. Args("-g", "daemon off;") to run the master in
// the foreground.
func (n *Nginx) Args(extra ...string) []string {
	return n.args(n.ConfigFile, extra...)
}

func (n *Nginx) args(config string, extra ...string) []string {
	var a []string
	if n.Prefix != "" {
		a = append(a, "-p", n.Prefix)
	}
	if config != "" {
		a = append(a, "-c", config)
	}
	e := n.ErrorLog
	if e == "" {
		e = os.DevNull
	}
	a = append(a, "-e", e)
	return append(a, extra...)
}

// Command returns the command running nginx with Args(extra...), inside
// NetNS when set. It returns an error only when NetNS is set on a system
// without network namespaces.
func (n *Nginx) Command(ctx context.Context, extra ...string) (*exec.Cmd, error) {
	return n.command(ctx, n.Args(extra...))
}

func (n *Nginx) command(ctx context.Context, args []string) (*exec.Cmd, error) {
	if n.NetNS != "" {
		return netnsCommand(ctx, n.NetNS, n.binary(), args)
	}
	return exec.CommandContext(ctx, n.binary(), args...), nil
}

func (n *Nginx) run(ctx context.Context, args []string) error {
	cmd, err := n.command(ctx, args)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return &CommandError{Args: append([]string{n.binary()}, args...), Output: strings.TrimSpace(out.String()), Err: err}
	}
	return nil
}

// Test runs `nginx -t` on ConfigFile. It returns a *CommandError carrying
// nginx's message when the configuration is refused.
func (n *Nginx) Test(ctx context.Context) error {
	return n.run(ctx, n.args(n.ConfigFile, "-t", "-q"))
}

// Reload tests the configuration in place and, if nginx accepts it, asks
// the running master to reload it (`nginx -s reload`). A configuration that
// fails the test is never loaded: Reload returns the test's *CommandError
// and the master keeps its current configuration. The reload itself is
// asynchronous: the master starts new workers and retires the old ones
// after Reload returns.
func (n *Nginx) Reload(ctx context.Context) error {
	if err := n.Test(ctx); err != nil {
		return err
	}
	return n.run(ctx, n.args(n.ConfigFile, "-s", "reload"))
}

// Install tests files (as rendered by Render) with `nginx -t` in a staging
// directory next to ConfigFile and, only if nginx accepts them, writes them
// into the configuration directory with WriteDir. A configuration nginx
// refuses never replaces the one in place: the error is a *CommandError
// with nginx's message (its paths point into the configuration directory).
// It reports whether any file changed. Install does not signal nginx.
func (n *Nginx) Install(ctx context.Context, files []File) (changed bool, err error) {
	if n.ConfigFile == "" || filepath.Base(n.ConfigFile) != MainFile {
		return false, fmt.Errorf("proxyconf: Nginx.ConfigFile %q: want a path ending in %s", n.ConfigFile, MainFile)
	}
	hasMain := false
	for _, f := range files {
		if err := checkPath(f.Path); err != nil {
			return false, err
		}
		hasMain = hasMain || f.Path == MainFile
	}
	if !hasMain {
		return false, fmt.Errorf("proxyconf: files: no %s", MainFile)
	}
	dir := filepath.Dir(n.ConfigFile)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, fmt.Errorf("proxyconf: %w", err)
	}
	stage, err := os.MkdirTemp(dir, ".staging-")
	if err != nil {
		return false, fmt.Errorf("proxyconf: %w", err)
	}
	defer os.RemoveAll(stage)
	if _, err := WriteDir(stage, files); err != nil {
		return false, err
	}
	if err := n.run(ctx, n.args(filepath.Join(stage, MainFile), "-t", "-q")); err != nil {
		var ce *CommandError
		if errors.As(err, &ce) {
			ce.Output = strings.ReplaceAll(ce.Output, stage, dir)
			for i, a := range ce.Args {
				ce.Args[i] = strings.ReplaceAll(a, stage, dir)
			}
		}
		return false, err
	}
	return WriteDir(dir, files)
}

// Apply installs files like Install and, when anything changed, reloads
// the running nginx like Reload.
func (n *Nginx) Apply(ctx context.Context, files []File) (changed bool, err error) {
	changed, err = n.Install(ctx, files)
	if err != nil || !changed {
		return changed, err
	}
	return true, n.Reload(ctx)
}

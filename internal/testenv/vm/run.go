package vm

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/lvskit/lvskit/internal/testenv/childproc"
)

// Config says what to run in the guest and how.
type Config struct {
	// Program is the host path of the executable to run. It is copied into
	// the scratch share, so it may live under /tmp.
	Program string
	// Args are the program's arguments.
	Args []string
	// Dir is the working folder in the guest (a host path, read-only);
	// default "/".
	Dir string
	// Env holds extra NAME=value pairs for the program.
	Env []string
	// Modules are loaded (with their dependencies) before the program runs.
	Modules []string
	// Timeout bounds the whole run, boot included; default 10 minutes.
	Timeout time.Duration
	// MemoryMB is the guest's memory; default 1024.
	MemoryMB int
	// CPUs is the guest's processor count; default 2.
	CPUs int
	// Output receives the guest's console: the program's output and any
	// kernel messages. Default os.Stdout.
	Output io.Writer
	// CacheDir holds the kernel; default [CacheDir]().
	CacheDir string
	// CacheHostRoot mounts the host's root with 9p's cache=loose: the guest
	// keeps what it read in its page and dentry caches, as a machine with
	// a local disk does, instead of asking the host again on every path
	// lookup, open and page fault (an exec of a dynamically linked program
	// then costs tens of ms of emulated CPU). Files the host changes while
	// the guest runs may look stale in it. Default off.
	CacheHostRoot bool
}

// ErrTimeout is returned by [Run] when the guest did not finish in time.
var ErrTimeout = errors.New("vm: timed out")

// Result describes a finished run.
type Result struct {
	// ExitCode is the program's exit code in the guest.
	ExitCode int
	// Boot is the time from starting qemu to the guest starting the
	// program.
	Boot time.Duration
	// Total is the wall time of the whole run.
	Total time.Duration
}

// Run boots a VM, runs cfg.Program in it as root and returns its exit code.
// An error means the program's exit code is unknown: the VM could not be
// prepared or booted, it timed out ([ErrTimeout]), or the guest died
// without reporting.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Minute
	}
	if cfg.MemoryMB == 0 {
		cfg.MemoryMB = 1024
	}
	if cfg.CPUs == 0 {
		cfg.CPUs = 2
	}
	if cfg.Output == nil {
		cfg.Output = os.Stdout
	}
	if cfg.Dir == "" {
		cfg.Dir = "/"
	}
	if cfg.CacheDir == "" {
		cfg.CacheDir = CacheDir()
	}
	qemu, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		return nil, fmt.Errorf("vm: qemu-system-x86_64 not found (install qemu-system-x86): %w", err)
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()

	k, err := Prepare(ctx, cfg.CacheDir, cfg.Output)
	if err != nil {
		return nil, err
	}
	// The scratch share must not live under /tmp, which the guest hides
	// under a tmpfs; the guest mounts it at the same path as the host.
	if err := os.MkdirAll("/var/tmp", 0o1777); err != nil {
		return nil, fmt.Errorf("vm: %w", err)
	}
	scratch, err := os.MkdirTemp("/var/tmp", "lvskit-vm-")
	if err != nil {
		return nil, fmt.Errorf("vm: %w", err)
	}
	defer os.RemoveAll(scratch)

	// The program gets a folder of its own: named run.sh, it would
	// otherwise replace the guest's script of that name.
	prog := filepath.Join(scratch, "bin", filepath.Base(cfg.Program))
	if err := os.Mkdir(filepath.Dir(prog), 0o755); err != nil {
		return nil, fmt.Errorf("vm: %w", err)
	}
	if err := copyFile(cfg.Program, prog); err != nil {
		return nil, err
	}
	argv := append([]string{prog}, cfg.Args...)
	if err := os.WriteFile(filepath.Join(scratch, "run.sh"), []byte(runScript(k, &cfg, argv)), 0o755); err != nil {
		return nil, fmt.Errorf("vm: %w", err)
	}
	initrd := filepath.Join(scratch, "initrd.gz")
	if err := buildInitramfs(initrd, k, "/bin/busybox"); err != nil {
		return nil, err
	}

	args := []string{
		"-m", fmt.Sprint(cfg.MemoryMB), "-smp", fmt.Sprint(cfg.CPUs),
		"-nographic", "-no-reboot", "-nodefaults", "-serial", "stdio",
		"-kernel", k.Vmlinuz(), "-initrd", initrd,
		"-append", kernelCmdline(&cfg, scratch),
		"-virtfs", "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap",
		"-virtfs", "local,path=" + scratch + ",mount_tag=scratch,security_model=none,multidevs=remap",
	}
	if kvmWorks(ctx, qemu, k) {
		args = append(args, "-enable-kvm", "-cpu", "host")
	}
	cmd := exec.Command(qemu, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("vm: %w", err)
	}
	cmd.Stderr = cmd.Stdout
	booted := make(chan time.Time, 1)
	exit := make(chan int, 1)
	waited := make(chan error, 1)
	if err := childproc.Start(cmd, func() {
		_ = scanConsole(stdout, cfg.Output, start, booted, exit)
		waited <- cmd.Wait()
	}); err != nil {
		return nil, fmt.Errorf("vm: starting qemu: %w", err)
	}

	res := &Result{ExitCode: -1}
	select {
	case <-waited:
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		<-waited
		res.Total = time.Since(start)
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return res, fmt.Errorf("%w after %v", ErrTimeout, cfg.Timeout)
		}
		return res, ctx.Err()
	}
	res.Total = time.Since(start)
	select {
	case t := <-booted:
		res.Boot = t.Sub(start)
	default:
	}
	select {
	case code := <-exit:
		res.ExitCode = code
		return res, nil
	default:
		return res, errors.New("vm: the guest stopped without reporting an exit code")
	}
}

// scanConsole copies the guest's console to out without carriage returns,
// notes when the run script starts (saying so in out, with the time since
// start, so that a hung boot is told from a hung program) and picks up the
// exit marker.
func scanConsole(r io.Reader, out io.Writer, start time.Time, booted chan<- time.Time, exit chan<- int) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := ansiEscape.ReplaceAllString(strings.TrimRight(sc.Text(), "\r"), "")
		if strings.HasSuffix(strings.TrimSpace(line), startMarker) {
			now := time.Now()
			select {
			case booted <- now:
			default:
			}
			fmt.Fprintf(out, "vm: the guest booted in %v and starts the program\n", now.Sub(start).Round(time.Millisecond))
			continue
		}
		if code, ok := parseExit(line); ok {
			select {
			case exit <- code:
			default:
			}
			continue
		}
		fmt.Fprintln(out, line)
	}
	return sc.Err()
}

// ansiEscape matches the terminal control sequences the firmware prints.
var ansiEscape = regexp.MustCompile(`\x1b(?:\[[0-9;?]*[A-Za-z]|[A-Za-z])`)

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return fmt.Errorf("vm: %w", err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return fmt.Errorf("vm: %w", err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("vm: copying %s: %w", from, err)
	}
	return out.Close()
}

// kernelCmdline returns the guest kernel's command line: the console, and
// for the initramfs the scratch share's path and the host root's cache
// mode.
func kernelCmdline(cfg *Config, scratch string) string {
	s := "console=ttyS0 quiet panic=-1 lvskit.scratch=" + scratch
	if cfg.CacheHostRoot {
		s += " lvskit.rootcache=loose"
	}
	return s
}

package agent

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/lvskit/lvskit/internal/config"
)

// sysctlFiles is where sysctls are read and written: /proc/sys (or a
// folder standing for it) through the os package.
type sysctlFiles interface {
	ReadFile(path string) ([]byte, error)
	WriteFile(path string, b []byte) error
}

type osSysctlFiles struct{}

func (osSysctlFiles) ReadFile(path string) ([]byte, error) { return os.ReadFile(path) }
func (osSysctlFiles) WriteFile(path string, b []byte) error {
	return os.WriteFile(path, b, 0)
}

// applySysctls writes each setting under root (normally /proc/sys) and
// reads it back, in order; a setting that already holds its value is not
// written. A setting that is read-only here (as net.nf_conntrack_max is
// in any network namespace but the initial one) is a warning, returned
// in warnings, when it already holds the wanted number or a larger one,
// and an error saying it is read-only otherwise. The first failure stops
// the work, naming the key and the value.
func applySysctls(files sysctlFiles, root string, ss []config.Sysctl) (warnings []string, err error) {
	for _, s := range ss {
		if strings.Contains(s.Key, "/") || strings.Contains(s.Key, "..") || s.Key == "" {
			return warnings, fmt.Errorf("sysctl %q: not a sysctl name", s.Key)
		}
		path := filepath.Join(root, strings.ReplaceAll(s.Key, ".", "/"))
		cur, err := files.ReadFile(path)
		if alias, ok := sysctlAliases[s.Key]; ok && errors.Is(err, fs.ErrNotExist) {
			path = filepath.Join(root, strings.ReplaceAll(alias, ".", "/"))
			cur, err = files.ReadFile(path)
		}
		if errors.Is(err, fs.ErrNotExist) {
			hint := ""
			if strings.HasPrefix(s.Key, "net.ipv4.vs.") {
				hint = " (is the ip_vs module loaded?)"
			}
			return warnings, fmt.Errorf("sysctl %s = %s: no such setting%s", s.Key, s.Value, hint)
		}
		if err != nil {
			return warnings, fmt.Errorf("sysctl %s = %s: %w", s.Key, s.Value, err)
		}
		if same(cur, s.Value) {
			continue
		}
		now := strings.Join(strings.Fields(string(cur)), " ")
		if err := files.WriteFile(path, []byte(s.Value+"\n")); err != nil {
			if !readOnly(err) {
				return warnings, fmt.Errorf("sysctl %s = %s (now %s): %w", s.Key, s.Value, now, err)
			}
			if atLeast(cur, s.Value) {
				warnings = append(warnings, fmt.Sprintf("sysctl %s = %s: read-only in this network namespace; keeping %s, which is larger", s.Key, s.Value, now))
				continue
			}
			return warnings, fmt.Errorf("sysctl %s = %s (now %s): read-only in this network namespace (set it in the initial namespace): %w", s.Key, s.Value, now, err)
		}
		got, err := files.ReadFile(path)
		if err != nil {
			return warnings, fmt.Errorf("sysctl %s = %s: reading back: %w", s.Key, s.Value, err)
		}
		if !same(got, s.Value) {
			return warnings, fmt.Errorf("sysctl %s = %s: the kernel kept %s", s.Key, s.Value, strings.TrimSpace(string(got)))
		}
	}
	return warnings, nil
}

// readOnly reports whether a write failed because the setting cannot be
// written by anyone here: /proc/sys answers EACCES for a file without
// write permission, root included.
func readOnly(err error) bool {
	return errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EROFS)
}

// atLeast reports whether a sysctl's contents are one integer not smaller
// than want, itself one integer.
func atLeast(cur []byte, want string) bool {
	c, err1 := strconv.ParseInt(strings.TrimSpace(string(cur)), 10, 64)
	w, err2 := strconv.ParseInt(strings.TrimSpace(want), 10, 64)
	return err1 == nil && err2 == nil && c >= w
}

// sysctlAliases name the same setting under another key. The article's
// net.nf_conntrack_max exists in the initial network namespace only; other
// namespaces show the same global value, read-only, as
// net.netfilter.nf_conntrack_max.
var sysctlAliases = map[string]string{
	"net.nf_conntrack_max": "net.netfilter.nf_conntrack_max",
}

// same compares a sysctl's contents with a wanted value, blanks aside
// (multi-value settings are tab-separated in /proc).
func same(cur []byte, want string) bool {
	return strings.Join(strings.Fields(string(cur)), " ") == strings.Join(strings.Fields(want), " ")
}

// applySysctls applies ss on the system and logs the warnings.
func (a *Agent) applySysctls(ss []config.Sysctl) error {
	warnings, err := applySysctls(osSysctlFiles{}, a.opts.ProcSys, ss)
	for _, w := range warnings {
		a.log.Warn(w)
	}
	return err
}

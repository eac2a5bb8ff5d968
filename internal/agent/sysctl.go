package agent

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/lvskit/lvskit/internal/config"
)

// applySysctls writes each setting under root (normally /proc/sys) and
// reads it back. A setting that is read-only here (as net.nf_conntrack_max
// is inside a network namespace other than the initial one) is accepted
// when it already holds the wanted value. The first failure stops the
// work, naming the key and the value.
func applySysctls(root string, ss []config.Sysctl) error {
	for _, s := range ss {
		if strings.Contains(s.Key, "/") || strings.Contains(s.Key, "..") || s.Key == "" {
			return fmt.Errorf("sysctl %q: not a sysctl name", s.Key)
		}
		path := filepath.Join(root, strings.ReplaceAll(s.Key, ".", "/"))
		cur, err := os.ReadFile(path)
		if alias, ok := sysctlAliases[s.Key]; ok && errors.Is(err, fs.ErrNotExist) {
			path = filepath.Join(root, strings.ReplaceAll(alias, ".", "/"))
			cur, err = os.ReadFile(path)
		}
		if errors.Is(err, fs.ErrNotExist) {
			hint := ""
			if strings.HasPrefix(s.Key, "net.ipv4.vs.") {
				hint = " (is the ip_vs module loaded?)"
			}
			return fmt.Errorf("sysctl %s = %s: no such setting%s", s.Key, s.Value, hint)
		}
		if err != nil {
			return fmt.Errorf("sysctl %s = %s: %w", s.Key, s.Value, err)
		}
		if same(cur, s.Value) {
			continue
		}
		if err := os.WriteFile(path, []byte(s.Value+"\n"), 0); err != nil {
			return fmt.Errorf("sysctl %s = %s (now %s): %w", s.Key, s.Value, strings.TrimSpace(string(cur)), err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("sysctl %s = %s: reading back: %w", s.Key, s.Value, err)
		}
		if !same(got, s.Value) {
			return fmt.Errorf("sysctl %s = %s: the kernel kept %s", s.Key, s.Value, strings.TrimSpace(string(got)))
		}
	}
	return nil
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

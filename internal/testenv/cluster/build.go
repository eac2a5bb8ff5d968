package cluster

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
)

// Program is one of the module's example programs a benchmark runs: Path,
// when set (from a -NAME flag), names it; otherwise BuildPrograms builds
// examples/Name and sets Path.
type Program struct {
	Name string
	Path *string
}

// BuildPrograms makes a new folder /var/tmp/PREFIX* (the VM hides /tmp
// but shares /var/tmp), builds there the programs without a path, makes
// the given paths absolute, and returns the folder. Builds run from the
// module; they are reported on out.
func BuildPrograms(ctx context.Context, out io.Writer, prefix string, progs ...Program) (string, error) {
	if err := os.MkdirAll("/var/tmp", 0o1777); err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("/var/tmp", prefix)
	if err != nil {
		return "", err
	}
	for _, p := range progs {
		if *p.Path != "" {
			abs, err := filepath.Abs(*p.Path)
			if err != nil {
				return dir, err
			}
			*p.Path = abs
			continue
		}
		fmt.Fprintf(out, "building %s into %s\n", p.Name, dir)
		bin := filepath.Join(dir, p.Name)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/lvskit/lvskit/examples/"+p.Name)
		if b, err := cmd.CombinedOutput(); err != nil {
			return dir, fmt.Errorf("go build ./examples/%s (run from the module, or pass -%s PATH): %v\n%s", p.Name, p.Name, err, b)
		}
		*p.Path = bin
	}
	return dir, nil
}

package proxyconf

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// WriteDir writes files into dir and reports whether anything changed.
//
// Every new or changed file is first written to a temporary file next to
// it and synced; only when all of them are written are they renamed into
// place, so a reader sees each file either whole and old or whole and new.
// Unchanged files are not touched. Then the *.conf files of SitesDir and
// StreamsDir that are not among files are removed (nginx would include
// them) and the directories are synced. Directories are created as needed.
//
// A path that is absolute, not clean, or leaves dir is an error, reported
// before anything is written.
func WriteDir(dir string, files []File) (changed bool, err error) {
	seen := map[string]bool{}
	for _, f := range files {
		if err := checkPath(f.Path); err != nil {
			return false, err
		}
		if seen[f.Path] {
			return false, fmt.Errorf("proxyconf: file %q: listed twice", f.Path)
		}
		seen[f.Path] = true
	}

	type pending struct{ tmp, dst string }
	var todo []pending
	defer func() {
		for _, p := range todo {
			os.Remove(p.tmp) // a no-op once renamed
		}
	}()
	dirs := map[string]bool{dir: true}
	for _, f := range files {
		dst := filepath.Join(dir, filepath.FromSlash(f.Path))
		if old, err := os.ReadFile(dst); err == nil && bytes.Equal(old, f.Data) {
			continue
		}
		d := filepath.Dir(dst)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return false, fmt.Errorf("proxyconf: %w", err)
		}
		dirs[d] = true
		tmp, err := writeTemp(d, filepath.Base(dst), f.Data)
		if err != nil {
			return false, err
		}
		todo = append(todo, pending{tmp, dst})
	}
	for _, p := range todo {
		if err := os.Rename(p.tmp, p.dst); err != nil {
			return changed, fmt.Errorf("proxyconf: %w", err)
		}
		changed = true
	}
	for _, sub := range []string{SitesDir, StreamsDir} {
		d := filepath.Join(dir, sub)
		entries, err := os.ReadDir(d)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return changed, fmt.Errorf("proxyconf: %w", err)
		}
		for _, e := range entries {
			if e.IsDir() || !strings.HasSuffix(e.Name(), ".conf") || seen[sub+"/"+e.Name()] {
				continue
			}
			if err := os.Remove(filepath.Join(d, e.Name())); err != nil {
				return changed, fmt.Errorf("proxyconf: %w", err)
			}
			changed = true
			dirs[d] = true
		}
	}
	for d := range dirs {
		if err := syncDir(d); err != nil {
			return changed, err
		}
	}
	return changed, nil
}

func checkPath(p string) error {
	if p == "" || path.IsAbs(p) || path.Clean(p) != p || p == "." || p == ".." || strings.HasPrefix(p, "../") || strings.ContainsRune(p, '\\') {
		return fmt.Errorf("proxyconf: file %q: want a clean relative path inside the directory", p)
	}
	return nil
}

// writeTemp writes data to a new temporary file in dir and syncs it.
func writeTemp(dir, base string, data []byte) (string, error) {
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("proxyconf: %w", err)
	}
	name := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return "", fmt.Errorf("proxyconf: %w", err)
	}
	return name, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("proxyconf: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("proxyconf: sync %s: %w", dir, err)
	}
	return nil
}

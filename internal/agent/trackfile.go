package agent

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/lvskit/lvskit/internal/config"
)

// fileValue is the value of a tracked file (track_file) by its name.
type fileValue struct {
	name  string
	value int64
}

// initTrackedFile writes f's init_file value, as keepalived 2.2.7 does when
// it starts: into a file that does not exist, or with overwrite into a
// regular file that does.
func initTrackedFile(f config.TrackedFile) error {
	if !f.Init {
		return nil
	}
	st, err := os.Stat(f.Path)
	switch {
	case err == nil && !f.InitOverwrite:
		return nil
	case err == nil && !st.Mode().IsRegular():
		return fmt.Errorf("track_file %s: cannot initialise %s: not a regular file", f.Name, f.Path)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("track_file %s: %w", f.Name, err)
	}
	if err := os.WriteFile(f.Path, fmt.Appendf(nil, "%d\n", f.InitValue), 0o644); err != nil {
		return fmt.Errorf("track_file %s: initialising: %w", f.Name, err)
	}
	return nil
}

// readTrackedFile reads the value of the file at path as keepalived does:
// a file that is missing, unreadable or empty holds 0; ok is false when
// its number is out of range, which keepalived ignores.
func readTrackedFile(path string) (v int64, ok bool) {
	fd, err := os.OpenFile(path, os.O_RDONLY|noBlock, 0)
	if err != nil {
		return 0, true
	}
	defer fd.Close()
	buf := make([]byte, 127)
	n, err := io.ReadAtLeast(fd, buf, 1)
	if err != nil && n == 0 {
		return 0, true
	}
	return config.ParseTrackFileValue(string(buf[:n]))
}

// trackedPath resolves f's path as keepalived does: the file itself when
// it exists, else its folder, which must exist; symbolic links are
// followed. It returns the folder to watch and the file's name in it.
func trackedPath(path string) (dir, name string, err error) {
	if p, err := filepath.EvalSymlinks(path); err == nil {
		abs, err := filepath.Abs(p)
		if err != nil {
			return "", "", err
		}
		return filepath.Dir(abs), filepath.Base(abs), nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", "", err
	}
	d, err := filepath.EvalSymlinks(filepath.Dir(path))
	if err != nil {
		return "", "", fmt.Errorf("its folder %s does not exist", filepath.Dir(path))
	}
	if st, err := os.Stat(d); err != nil || !st.IsDir() {
		return "", "", fmt.Errorf("%s is not a folder", filepath.Dir(path))
	}
	abs, err := filepath.Abs(d)
	if err != nil {
		return "", "", err
	}
	return abs, filepath.Base(path), nil
}

// initTrackedFiles initialises the files and logs what fails, as keepalived
// reports it and goes on.
func initTrackedFiles(files []config.TrackedFile, log *slog.Logger) {
	for _, f := range files {
		if err := initTrackedFile(f); err != nil {
			log.Error("vrrp: tracked file", "err", err)
		}
	}
}

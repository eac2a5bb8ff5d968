package agent

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/lvskit/lvskit/internal/config"
	"golang.org/x/sys/unix"
)

const noBlock = unix.O_NONBLOCK

// watchFiles is Env.WatchFiles: it initialises the files, watches their
// folders with inotify (writes closed, files deleted or moved in or out,
// as keepalived 2.2.7 watches them) and reads a file again on each event
// for it; a file deleted or moved away holds 0. The inotify descriptor is
// non-blocking, so that its reads wait in the runtime's poller.
func watchFiles(ctx context.Context, files []config.TrackedFile, log *slog.Logger) ([]fileValue, <-chan fileValue, error) {
	initTrackedFiles(files, log)
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return nil, nil, fmt.Errorf("inotify: %w", err)
	}
	in := os.NewFile(uintptr(fd), "inotify")
	type watched struct {
		name, path string
	}
	byWatch := map[int32][]watched{}
	var initial []fileValue
	for _, f := range files {
		dir, base, err := trackedPath(f.Path)
		if err != nil {
			log.Error("vrrp: tracked file not tracked, as keepalived 2.2.7 drops it", "track_file", f.Name, "file", f.Path, "err", err)
			continue
		}
		wd, err := unix.InotifyAddWatch(fd, dir, unix.IN_CLOSE_WRITE|unix.IN_DELETE|unix.IN_MOVE)
		if err != nil {
			log.Error("vrrp: tracked file not tracked", "track_file", f.Name, "file", f.Path, "err", fmt.Errorf("watching %s: %w", dir, err))
			continue
		}
		byWatch[int32(wd)] = append(byWatch[int32(wd)], watched{f.Name, filepath.Join(dir, base)})
		v, ok := readTrackedFile(filepath.Join(dir, base))
		if !ok {
			log.Warn("vrrp: tracked file holds a number out of range; ignored, as keepalived does", "track_file", f.Name, "file", f.Path)
			v = 0
		}
		initial = append(initial, fileValue{f.Name, v})
	}
	out := make(chan fileValue)
	go func() {
		<-ctx.Done()
		in.Close()
	}()
	go func() {
		defer close(out)
		buf := make([]byte, 64*(unix.SizeofInotifyEvent+unix.NAME_MAX+1))
		for {
			n, err := in.Read(buf)
			if err != nil {
				if ctx.Err() == nil {
					log.Error("vrrp: reading inotify events; tracked files no longer followed", "err", err)
				}
				return
			}
			for off := 0; off+unix.SizeofInotifyEvent <= n; {
				wd := int32(binary.NativeEndian.Uint32(buf[off:]))
				mask := binary.NativeEndian.Uint32(buf[off+4:])
				nameLen := int(binary.NativeEndian.Uint32(buf[off+12:]))
				start := off + unix.SizeofInotifyEvent
				end := min(start+nameLen, n)
				name := string(buf[start:end])
				for i := 0; i < len(name); i++ {
					if name[i] == 0 {
						name = name[:i]
						break
					}
				}
				off = start + nameLen
				if mask&unix.IN_ISDIR != 0 {
					continue
				}
				for _, w := range byWatch[wd] {
					if filepath.Base(w.path) != name {
						continue
					}
					v := int64(0)
					if mask&(unix.IN_CLOSE_WRITE|unix.IN_MOVED_TO) != 0 {
						var ok bool
						if v, ok = readTrackedFile(w.path); !ok {
							log.Warn("vrrp: tracked file holds a number out of range; ignored, as keepalived does", "track_file", w.name, "file", w.path)
							continue
						}
					}
					select {
					case out <- fileValue{w.name, v}:
					case <-ctx.Done():
						return
					}
				}
			}
		}
	}()
	return initial, out, nil
}

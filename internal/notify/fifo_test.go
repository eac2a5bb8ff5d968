package notify

import (
	"bufio"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestFIFOLine(t *testing.T) {
	for _, tt := range []struct {
		group bool
		name  string
		state string
		prio  int
		want  string
	}{
		{false, "VI_1", "MASTER", 150, "INSTANCE \"VI_1\" MASTER 150\n"},
		{false, "192.168.0.100", "FAULT", 90, "INSTANCE \"192.168.0.100\" FAULT 90\n"},
		{true, "G", "BACKUP", 100, "GROUP \"G\" BACKUP 0\n"},
	} {
		if got := FIFOLine(tt.group, tt.name, tt.state, tt.prio); got != tt.want {
			t.Errorf("FIFOLine(%v, %q, %q, %d) = %q, want %q", tt.group, tt.name, tt.state, tt.prio, got, tt.want)
		}
	}
}

// A FIFO is created if missing, read by a reader that opened it before or
// after, never blocks the writer, and is removed by Close only if created.
func TestFIFOWriteAndClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fifo")
	q, err := OpenFIFO(path, -1, -1)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode()&os.ModeNamedPipe == 0 || st.Mode().Perm() != 0o644&^umask() {
		t.Fatalf("stat %s: %v %v", path, st.Mode(), err)
	}
	r, err := os.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	lines := []string{FIFOLine(false, "VI_1", "MASTER", 150), FIFOLine(true, "G", "MASTER", 0)}
	for _, l := range lines {
		if err := q.Write(l); err != nil {
			t.Fatal(err)
		}
	}
	br := bufio.NewReader(r)
	for _, want := range lines {
		got, err := br.ReadString('\n')
		if err != nil || got != want {
			t.Fatalf("read %q, %v; want %q", got, err, want)
		}
	}
	// With nobody reading, a full pipe drops lines instead of blocking.
	var dropped error
	for i := 0; i < 1<<14 && dropped == nil; i++ {
		dropped = q.Write(FIFOLine(false, "VI_1", "BACKUP", 100))
	}
	if dropped == nil {
		t.Error("no line dropped after 16384 writes without a reader")
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("created FIFO left after Close: %v", err)
	}
	// An existing FIFO is used and left in place.
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	q, err = OpenFIFO(path, -1, -1)
	if err != nil {
		t.Fatal(err)
	}
	q.Close()
	if _, err := os.Stat(path); err != nil {
		t.Errorf("existing FIFO removed: %v", err)
	}
	// A regular file is refused.
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	if _, err := OpenFIFO(file, -1, -1); err == nil {
		t.Error("a regular file opened as a FIFO")
	}
}

func umask() os.FileMode {
	m := syscall.Umask(0)
	syscall.Umask(m)
	return os.FileMode(m)
}

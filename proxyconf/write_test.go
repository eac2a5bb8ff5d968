package proxyconf

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// readTree returns every regular file under dir, by slash path.
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestWriteDir(t *testing.T) {
	dir := t.TempDir()
	files := []File{
		{Path: "nginx.conf", Data: []byte("main\n")},
		{Path: "sites-enabled/web.conf", Data: []byte("web\n")},
		{Path: "stream-enabled/dns.conf", Data: []byte("dns\n")},
	}
	changed, err := WriteDir(dir, files)
	if err != nil || !changed {
		t.Fatalf("first WriteDir = %v, %v; want true, nil", changed, err)
	}
	want := map[string]string{"nginx.conf": "main\n", "sites-enabled/web.conf": "web\n", "stream-enabled/dns.conf": "dns\n"}
	if diff := cmp.Diff(want, readTree(t, dir)); diff != "" {
		t.Fatalf("tree after first write (-want +got):\n%s", diff)
	}

	// The same files again: nothing changes, not even the inode.
	before, _ := os.Stat(filepath.Join(dir, "nginx.conf"))
	changed, err = WriteDir(dir, files)
	if err != nil || changed {
		t.Fatalf("identical WriteDir = %v, %v; want false, nil", changed, err)
	}
	after, _ := os.Stat(filepath.Join(dir, "nginx.conf"))
	if !os.SameFile(before, after) {
		t.Error("identical WriteDir replaced nginx.conf")
	}

	// Stale .conf files of the include directories go; other files stay.
	for p, s := range map[string]string{
		"sites-enabled/old.conf":  "old\n",
		"stream-enabled/old.conf": "old\n",
		"sites-enabled/README":    "keep\n",
		"conf.d/other.conf":       "keep\n",
	} {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, p), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	files[1].Data = []byte("web v2\n")
	changed, err = WriteDir(dir, files[:2])
	if err != nil || !changed {
		t.Fatalf("WriteDir with changes = %v, %v; want true, nil", changed, err)
	}
	want = map[string]string{
		"nginx.conf":             "main\n",
		"sites-enabled/web.conf": "web v2\n",
		"sites-enabled/README":   "keep\n",
		"conf.d/other.conf":      "keep\n",
	}
	if diff := cmp.Diff(want, readTree(t, dir)); diff != "" {
		t.Errorf("tree after update (-want +got):\n%s", diff)
	}

	// Only removing a stale file counts as a change too.
	os.WriteFile(filepath.Join(dir, "sites-enabled/stale.conf"), nil, 0o644)
	if changed, err := WriteDir(dir, files[:2]); err != nil || !changed {
		t.Errorf("WriteDir removing a stale file = %v, %v; want true, nil", changed, err)
	}
}

func TestWriteDirRefusesBadPaths(t *testing.T) {
	for _, p := range []string{"", "/etc/nginx/nginx.conf", "../x.conf", "a/../../x", "./x", "a//b", "sites-enabled/", `a\b`, "."} {
		t.Run(p, func(t *testing.T) {
			dir := t.TempDir()
			files := []File{{Path: "nginx.conf", Data: []byte("x")}, {Path: p, Data: []byte("y")}}
			if _, err := WriteDir(dir, files); err == nil || !strings.Contains(err.Error(), `"`+strings.ReplaceAll(p, `\`, `\\`)+`"`) {
				t.Errorf("WriteDir(%q) = %v, want an error naming the path", p, err)
			}
			if got := readTree(t, dir); len(got) != 0 {
				t.Errorf("WriteDir wrote %v despite the bad path", got)
			}
		})
	}
	dir := t.TempDir()
	if _, err := WriteDir(dir, []File{{Path: "a.conf"}, {Path: "a.conf"}}); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("WriteDir with a duplicate path = %v, want an error", err)
	}
}

// TestWriteDirReadersSeeWholeFiles rewrites a file between two contents of
// different lengths while readers read it: every read must return one of
// the two contents whole, never a mix or a truncated file.
func TestWriteDirReadersSeeWholeFiles(t *testing.T) {
	dir := t.TempDir()
	a := bytes.Repeat([]byte("a"), 64<<10)
	b := bytes.Repeat([]byte("bb\n"), 1000)
	if _, err := WriteDir(dir, []File{{Path: "nginx.conf", Data: a}}); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	var bad []int
	var mu sync.Mutex
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				got, err := os.ReadFile(filepath.Join(dir, "nginx.conf"))
				if err != nil || !bytes.Equal(got, a) && !bytes.Equal(got, b) {
					mu.Lock()
					bad = append(bad, len(got))
					mu.Unlock()
				}
			}
		})
	}
	for i := range 100 {
		data := a
		if i%2 == 0 {
			data = b
		}
		if _, err := WriteDir(dir, []File{{Path: "nginx.conf", Data: data}}); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
	if len(bad) > 0 {
		t.Errorf("readers saw %d partial files (lengths %v)", len(bad), bad[:min(len(bad), 10)])
	}
	entries, _ := os.ReadDir(dir)
	names := []string{}
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"nginx.conf"}) {
		t.Errorf("directory holds %v, want only nginx.conf (no temporary files)", names)
	}
}

package proxyconf

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fakeNginx writes a shell script standing in for nginx: it logs its
// arguments, refuses (like `nginx -t`) any configuration whose directory
// tree contains the word BROKEN, and accepts -s reload. It returns the
// script and its log.
func fakeNginx(t *testing.T) (bin, log string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("needs /bin/sh")
	}
	d := t.TempDir()
	bin = filepath.Join(d, "nginx")
	log = filepath.Join(d, "log")
	script := `#!/bin/sh
echo "$*" >> '` + log + `'
conf=
while [ $# -gt 0 ]; do
	case "$1" in
	-c) conf="$2"; shift ;;
	esac
	shift
done
if grep -rq BROKEN "$(dirname "$conf")" 2>/dev/null; then
	f=$(grep -rl BROKEN "$(dirname "$conf")" | head -n 1)
	echo "nginx: [emerg] unknown directive \"BROKEN\" in $f:1" >&2
	echo "nginx: configuration file $conf test failed" >&2
	exit 1
fi
exit 0
`
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin, log
}

func readLog(t *testing.T, log string) []string {
	t.Helper()
	b, err := os.ReadFile(log)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

func TestNginxArgs(t *testing.T) {
	tests := []struct {
		name  string
		n     Nginx
		extra []string
		want  []string
	}{
		{"zero", Nginx{}, nil, []string{"-e", os.DevNull}},
		{"all", Nginx{Prefix: "/p/", ConfigFile: "/c/nginx.conf", ErrorLog: "stderr"}, []string{"-g", "daemon off;"},
			[]string{"-p", "/p/", "-c", "/c/nginx.conf", "-e", "stderr", "-g", "daemon off;"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.n.Args(tc.extra...)); diff != "" {
				t.Errorf("Args (-want +got):\n%s", diff)
			}
		})
	}
}

func TestInstallAndApply(t *testing.T) {
	bin, log := fakeNginx(t)
	dir := filepath.Join(t.TempDir(), "conf")
	n := &Nginx{Binary: bin, Prefix: "/prefix/", ConfigFile: filepath.Join(dir, MainFile)}
	ctx := context.Background()

	good, err := articleNode("172.16.0.1").Render()
	if err != nil {
		t.Fatal(err)
	}
	changed, err := n.Apply(ctx, good)
	if err != nil || !changed {
		t.Fatalf("Apply(good) = %v, %v; want true, nil", changed, err)
	}
	lines := readLog(t, log)
	if len(lines) != 3 {
		t.Fatalf("nginx ran %d times, want 3 (staged -t, -t, -s reload): %q", len(lines), lines)
	}
	if !strings.Contains(lines[0], filepath.Join(dir, ".staging-")) || !strings.Contains(lines[0], "-t") {
		t.Errorf("first run %q: want -t on a staging directory inside %s", lines[0], dir)
	}
	if want := "-p /prefix/ -c " + n.ConfigFile + " -e " + os.DevNull + " -t -q"; lines[1] != want {
		t.Errorf("second run %q, want %q", lines[1], want)
	}
	if !strings.HasSuffix(lines[2], "-s reload") {
		t.Errorf("third run %q, want -s reload", lines[2])
	}
	installed := readTree(t, dir)
	for _, f := range good {
		if installed[f.Path] != string(f.Data) {
			t.Errorf("%s not installed as rendered", f.Path)
		}
	}

	// Unchanged: tested, not written, not reloaded.
	os.Remove(log)
	if changed, err := n.Apply(ctx, good); err != nil || changed {
		t.Errorf("Apply(same) = %v, %v; want false, nil", changed, err)
	}
	if lines := readLog(t, log); len(lines) != 1 {
		t.Errorf("Apply(same) ran nginx %q, want only the staged test", lines)
	}

	// Refused by nginx: the live files stay, nginx's message comes back
	// naming the live path, nothing is reloaded, no staging is left.
	os.Remove(log)
	bad := make([]File, len(good))
	copy(bad, good)
	for i := range bad {
		if bad[i].Path == "sites-enabled/web_servers.conf" {
			bad[i].Data = []byte("BROKEN;\n")
		}
	}
	changed, err = n.Apply(ctx, bad)
	var ce *CommandError
	if changed || !errors.As(err, &ce) {
		t.Fatalf("Apply(bad) = %v, %v; want false and a *CommandError", changed, err)
	}
	wantMsg := `unknown directive "BROKEN" in ` + filepath.Join(dir, "sites-enabled/web_servers.conf") + ":1"
	if !strings.Contains(err.Error(), wantMsg) || strings.Contains(err.Error(), ".staging-") {
		t.Errorf("error %q: want nginx's message %q with the live path", err, wantMsg)
	}
	if diff := cmp.Diff(installed, readTree(t, dir)); diff != "" {
		t.Errorf("refused configuration changed the live files (-before +after):\n%s", diff)
	}
	if lines := readLog(t, log); len(lines) != 1 {
		t.Errorf("Apply(bad) ran nginx %q, want only the staged test", lines)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".staging-") {
			t.Errorf("staging directory %s left behind", e.Name())
		}
	}

	// Reload refuses a broken live configuration without signalling.
	os.Remove(log)
	os.WriteFile(filepath.Join(dir, "sites-enabled/web_servers.conf"), []byte("BROKEN;\n"), 0o644)
	if err := n.Reload(ctx); !errors.As(err, &ce) || !strings.Contains(ce.Output, "BROKEN") {
		t.Errorf("Reload(broken) = %v, want a *CommandError with nginx's message", err)
	}
	for _, l := range readLog(t, log) {
		if strings.Contains(l, "-s reload") {
			t.Errorf("Reload signalled nginx despite the failed test: %q", l)
		}
	}
}

func TestInstallRefusesBadInput(t *testing.T) {
	bin, log := fakeNginx(t)
	ctx := context.Background()
	dir := t.TempDir()
	tests := []struct {
		name  string
		n     Nginx
		files []File
		want  string
	}{
		{"no config file", Nginx{Binary: bin}, []File{{Path: MainFile}}, `Nginx.ConfigFile ""`},
		{"other name", Nginx{Binary: bin, ConfigFile: filepath.Join(dir, "x.conf")}, []File{{Path: MainFile}}, "x.conf"},
		{"no main file", Nginx{Binary: bin, ConfigFile: filepath.Join(dir, MainFile)}, []File{{Path: "sites-enabled/a.conf"}}, "no nginx.conf"},
		{"escaping path", Nginx{Binary: bin, ConfigFile: filepath.Join(dir, MainFile)}, []File{{Path: MainFile}, {Path: "../x.conf"}}, `"../x.conf"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.n.Install(ctx, tc.files); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Install = %v, want an error containing %q", err, tc.want)
			}
		})
	}
	if lines := readLog(t, log); len(lines) != 0 {
		t.Errorf("nginx ran on bad input: %q", lines)
	}
	if got := readTree(t, dir); len(got) != 0 {
		t.Errorf("files written on bad input: %v", got)
	}
}

func TestCommandErrorWithoutOutput(t *testing.T) {
	n := &Nginx{Binary: filepath.Join(t.TempDir(), "no-such-nginx")}
	err := n.Test(context.Background())
	var ce *CommandError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "no-such-nginx") {
		t.Errorf("Test with a missing binary = %v, want a *CommandError naming it", err)
	}
}

func TestStreamModule(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs /bin/sh")
	}
	dir := t.TempDir()
	mods := filepath.Join(dir, "mods")
	os.Mkdir(mods, 0o755)
	os.WriteFile(filepath.Join(mods, "ngx_stream_module.so"), nil, 0o644)
	tests := []struct {
		name, configure, want, wantErr string
	}{
		{"dynamic", "--prefix=/usr/share/nginx --modules-path=" + mods + " --with-stream=dynamic --with-stream_ssl_module", filepath.Join(mods, "ngx_stream_module.so"), ""},
		{"dynamic not installed", "--modules-path=" + dir + " --with-stream=dynamic", "", filepath.Join(dir, "ngx_stream_module.so")},
		{"dynamic under prefix", "--prefix=" + filepath.Dir(mods) + "/x --with-stream=dynamic", "", filepath.Join(dir, "x", "modules", "ngx_stream_module.so")},
		{"static", "--with-stream --with-http_ssl_module", "", ""},
		{"none", "--with-http_ssl_module --with-stream_realip_module", "", "without the stream module"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bin := filepath.Join(dir, "nginx"+strconv.Itoa(i))
			script := "#!/bin/sh\necho 'nginx version: nginx/1.22.1' >&2\necho 'configure arguments: " + tc.configure + "' >&2\n"
			if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
			got, err := (&Nginx{Binary: bin}).StreamModule(context.Background())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("StreamModule = %q, %v; want an error containing %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("StreamModule = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

package config

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the testdata/*.summary golden files")

func TestSummaryGolden(t *testing.T) {
	for _, name := range []string{"article-keepalived.conf", "article.yaml", "lb1.yaml", "lb2.yaml"} {
		t.Run(name, func(t *testing.T) {
			c, err := parseFile("testdata/" + name)
			if err != nil {
				t.Fatal(err)
			}
			got := c.Summary()
			// Loading again gives the same text.
			c2, err := parseFile("testdata/" + name)
			if err != nil {
				t.Fatal(err)
			}
			if again := c2.Summary(); again != got {
				t.Errorf("summary is not stable:\n%s", cmp.Diff(got, again))
			}
			golden := "testdata/" + name + ".summary"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("summary of %s differs from %s (-want +got):\n%s", name, golden, diff)
			}
		})
	}
}

func TestSummaryBuiltInCode(t *testing.T) {
	in := NewVRRPInstance("VI_1")
	in.Interface = "eth0"
	in.VirtualRouterID = 9
	c := &Config{VRRP: []VRRPInstance{in}}
	s := c.Summary()
	for _, want := range []string{
		"config (built in code) (-)\n",
		"vrrp_instance VI_1: interface eth0, vrid 9, priority 100, state BACKUP, advert_int 1s\n",
		"    preempt, authentication none\n",
		"ipvs virtual servers: 0\n",
		"nat switch: none\n",
		"nginx: none\n",
		"sysctls: 0\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
}

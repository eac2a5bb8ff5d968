package config

import (
	"strings"
	"testing"
)

// keepalived -t prints, for each route case that names one, the message
// the reader's warning or error quotes.
func TestIntegrationKeepalivedReadsRoutes(t *testing.T) {
	ns := kaNS(t)
	ns.Run(t, "ip", "link", "add", "eth2", "type", "veth", "peer", "name", "peth2")
	for _, tt := range routeCases {
		if tt.keepalived == "" {
			continue
		}
		t.Run(tt.name, func(t *testing.T) {
			out := kaConfigTestOutput(t, ns, tt.src)
			if !strings.Contains(out, tt.keepalived) {
				t.Errorf("keepalived -t does not say %q:\n%s", tt.keepalived, out)
			}
		})
	}
}

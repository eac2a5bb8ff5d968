package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Load reads a node's configuration from path: YAML when its name ends in
// .yaml or .yml, a keepalived.conf otherwise. The result is validated and
// its scripts resolved on this system (ResolveScripts). A file that cannot
// be read gives an error wrapping the os error; bad content gives an
// Errors.
func Load(path string) (*Config, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c, err := Parse(path, src)
	if err != nil {
		return nil, err
	}
	if err := ResolveScripts(c); err != nil {
		return nil, err
	}
	return c, nil
}

// Parse is Load for contents already read; path chooses the format and
// resolves keepalived include directives.
func Parse(path string, src []byte) (*Config, error) {
	if IsYAML(path) {
		return ParseYAML(path, src)
	}
	return ParseKeepalived(path, src)
}

// IsYAML reports whether Load reads path as YAML.
func IsYAML(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		return true
	}
	return false
}

package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// ParseYAML reads the YAML form of a node's configuration from src; name
// is used in messages. Unknown keys, wrong types and bad values are errors
// with the line and the field path; the result is a validated Config (see
// Validate) or nil and an Errors.
func ParseYAML(name string, src []byte) (*Config, error) {
	var f yFile
	dec := yaml.NewDecoder(bytes.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlDecodeErrors(name, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, Errors{{Pos: Pos{File: name, Line: extra.Line}, Msg: "more than one YAML document"}}
	}
	y := &yReader{file: name}
	cfg := y.config(&f)
	if err := y.errs.err(); err != nil {
		return nil, err
	}
	if err := Validate(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

var (
	yamlLineRe    = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	yamlUnknownRe = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
	yamlTypeRe    = regexp.MustCompile(`^cannot unmarshal (!!\w+)(?: ` + "`([^`]*)`" + `)? into \S+$`)
)

// yamlDecodeErrors turns the decoder's messages into Errors with the file
// and line, without the reader's internal type names.
func yamlDecodeErrors(name string, err error) error {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	var out Errors
	for _, m := range msgs {
		e := &Error{Pos: Pos{File: name}, Msg: m}
		if sm := yamlLineRe.FindStringSubmatch(m); sm != nil {
			e.Pos.Line, _ = strconv.Atoi(sm[1])
			e.Msg = sm[2]
		} else {
			e.Msg = strings.TrimPrefix(m, "yaml: ")
		}
		if sm := yamlUnknownRe.FindStringSubmatch(e.Msg); sm != nil {
			e.Directive = sm[1]
			e.Msg = "unknown field"
		} else if sm := yamlTypeRe.FindStringSubmatch(e.Msg); sm != nil {
			what := map[string]string{"!!seq": "a list", "!!map": "a mapping", "!!str": "a string", "!!int": "a number", "!!bool": "a boolean", "!!float": "a number"}[sm[1]]
			if what == "" {
				what = sm[1]
			}
			if sm[2] != "" {
				e.Msg = fmt.Sprintf("%s %q is not allowed here", what, sm[2])
			} else {
				e.Msg = what + " is not allowed here"
			}
		}
		out = append(out, e)
	}
	return out
}

type yReader struct {
	file     string
	errs     errList
	warnings []Warning
}

// absent reports whether a field was not in the file.
func absent(n *yaml.Node) bool { return n == nil || n.Kind == 0 }

func (y *yReader) pos(n *yaml.Node) Pos {
	if absent(n) {
		return Pos{File: y.file}
	}
	return Pos{File: y.file, Line: n.Line}
}

func (y *yReader) errf(n *yaml.Node, path, format string, a ...any) {
	y.errs.add(y.pos(n), path, fmt.Sprintf(format, a...))
}

// firstPos is the position of the first key present in an item, which is
// where the item starts.
func (y *yReader) firstPos(nodes ...*yaml.Node) Pos {
	line := 0
	for _, n := range nodes {
		if !absent(n) && (line == 0 || n.Line < line) {
			line = n.Line
		}
	}
	return Pos{File: y.file, Line: line}
}

// scalar returns a scalar's text; ok is false when n is absent or not a
// scalar (reported).
func (y *yReader) scalar(n *yaml.Node, path string) (string, bool) {
	if absent(n) {
		return "", false
	}
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		y.errf(n, path, "want a single value")
		return "", false
	}
	return n.Value, true
}

func (y *yReader) str(n *yaml.Node, path string, dst *string) {
	if s, ok := y.scalar(n, path); ok {
		*dst = s
	}
}

func (y *yReader) boolean(n *yaml.Node, path string, dst *bool) {
	s, ok := y.scalar(n, path)
	if !ok {
		return
	}
	var b bool
	if n.Tag != "!!bool" || n.Decode(&b) != nil {
		y.errf(n, path, "%q is not true or false", s)
		return
	}
	*dst = b
}

func (y *yReader) intv(n *yaml.Node, path string, lo, hi int, dst *int) {
	if s, ok := y.scalar(n, path); ok {
		v, err := parseIntRange(s, lo, hi)
		if err != nil {
			y.errf(n, path, "%s", err)
			return
		}
		*dst = v
	}
}

func (y *yReader) seconds(n *yaml.Node, path string, lo, hi time.Duration, dst *time.Duration) {
	if s, ok := y.scalar(n, path); ok {
		v, err := parseSeconds(s, lo, hi)
		if err != nil {
			y.errf(n, path, "%s", err)
			return
		}
		*dst = v
	}
}

func (y *yReader) addr(n *yaml.Node, path string, dst *netip.Addr) {
	if s, ok := y.scalar(n, path); ok {
		a, err := parseAddr(s)
		if err != nil {
			y.errf(n, path, "%s", err)
			return
		}
		*dst = a
	}
}

func (y *yReader) command(n *yaml.Node, path string, dst *Command) {
	if !absent(n) && n.Kind == yaml.SequenceNode {
		var c Command
		for i, it := range n.Content {
			if s, ok := y.scalar(it, fmt.Sprintf("%s[%d]", path, i)); ok {
				c = append(c, s)
			}
		}
		if len(c) == 0 || c[0] == "" {
			y.errf(n, path, "empty command")
			return
		}
		*dst = c
		return
	}
	if s, ok := y.scalar(n, path); ok {
		c, err := splitCommand(s)
		if err != nil {
			y.errf(n, path, "%s", err)
			return
		}
		*dst = c
	}
}

// list returns the items of a sequence; a single scalar is a list of one.
func (y *yReader) list(n *yaml.Node, path string) []*yaml.Node {
	switch {
	case absent(n):
		return nil
	case n.Kind == yaml.SequenceNode:
		return n.Content
	case n.Kind == yaml.ScalarNode && n.Tag != "!!null":
		return []*yaml.Node{n}
	}
	y.errf(n, path, "want a list")
	return nil
}

// pairs returns the key/value pairs of a mapping in order.
func (y *yReader) pairs(n *yaml.Node, path string) [][2]*yaml.Node {
	if absent(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		y.errf(n, path, "want a mapping")
		return nil
	}
	var out [][2]*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		out = append(out, [2]*yaml.Node{n.Content[i], n.Content[i+1]})
	}
	return out
}

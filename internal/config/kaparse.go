package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The keepalived.conf syntax: words separated by blanks, one directive per
// line, blocks in braces, comments from '#' or '!' to the end of the line,
// double-quoted strings, and `include GLOB` lines resolved relative to the
// including file and spliced in place.

// token is one word of a keepalived.conf file.
type token struct {
	text string
	// quoted is true when (part of) the word was in double quotes; a
	// quoted "{" is a word, not a brace.
	quoted bool
	pos    Pos
}

func (t token) isOpen() bool  { return !t.quoted && t.text == "{" }
func (t token) isClose() bool { return !t.quoted && t.text == "}" }

// fileSystem is what the reader needs to follow include directives.
type fileSystem interface {
	ReadFile(name string) ([]byte, error)
	Glob(pattern string) ([]string, error)
}

type osFS struct{}

func (osFS) ReadFile(name string) ([]byte, error)  { return os.ReadFile(name) }
func (osFS) Glob(pattern string) ([]string, error) { return filepath.Glob(pattern) }

const (
	maxIncludeDepth = 8
	maxBlockDepth   = 16
	maxIncludeFiles = 256
)

type lexer struct {
	fs       fileSystem
	toks     []token
	warnings []Warning
	files    int
}

// lexFile tokenizes src (the contents of name) and, recursively, the files
// it includes.
func (lx *lexer) lexFile(name string, src []byte, depth int) error {
	lines := strings.Split(string(src), "\n")
	for i, line := range lines {
		pos := Pos{File: name, Line: i + 1}
		words, err := splitLine(strings.TrimSuffix(line, "\r"), pos)
		if err != nil {
			return err
		}
		if len(words) > 0 && !words[0].quoted && strings.HasPrefix(words[0].text, "@") {
			// keepalived 2.2.7 (lib/parser.c) keeps such a line only when
			// the word after @ (or @^, reversed) is its config id.
			return &Error{Pos: pos, Directive: words[0].text, Msg: "conditional configuration (@ID and @^ID lines, chosen by keepalived's -i/--config-id) is not supported"}
		}
		if len(words) > 0 && !words[0].quoted && words[0].text == "include" {
			if err := lx.include(name, words, depth); err != nil {
				return err
			}
			continue
		}
		lx.toks = append(lx.toks, words...)
	}
	return nil
}

func (lx *lexer) include(from string, words []token, depth int) error {
	pos := words[0].pos
	if len(words) != 2 {
		return &Error{Pos: pos, Directive: "include", Msg: "want one file name or glob pattern"}
	}
	if depth >= maxIncludeDepth {
		return &Error{Pos: pos, Directive: "include", Msg: fmt.Sprintf("%q: includes nested deeper than %d (a loop?)", words[1].text, maxIncludeDepth)}
	}
	pattern := words[1].text
	if !filepath.IsAbs(pattern) {
		pattern = filepath.Join(filepath.Dir(from), pattern)
	}
	matches, err := lx.fs.Glob(pattern)
	if err != nil {
		return &Error{Pos: pos, Directive: "include", Msg: fmt.Sprintf("%q: %v", words[1].text, err)}
	}
	if len(matches) == 0 {
		// keepalived goes on without the file, with a warning.
		lx.warnings = append(lx.warnings, Warning{Pos: pos, Directive: "include", Msg: fmt.Sprintf("%q matches no file", words[1].text)})
		return nil
	}
	for _, m := range matches {
		lx.files++
		if lx.files > maxIncludeFiles {
			return &Error{Pos: pos, Directive: "include", Msg: fmt.Sprintf("more than %d included files", maxIncludeFiles)}
		}
		src, err := lx.fs.ReadFile(m)
		if err != nil {
			return &Error{Pos: pos, Directive: "include", Msg: err.Error()}
		}
		if err := lx.lexFile(m, src, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// splitLine splits one line into words: blanks separate words, '{' and '}'
// are words of their own, '#' and '!' start a comment, "..." quotes.
func splitLine(line string, pos Pos) ([]token, error) {
	var out []token
	var cur strings.Builder
	inWord, quoted := false, false
	flush := func() {
		if inWord {
			out = append(out, token{text: cur.String(), quoted: quoted, pos: pos})
			cur.Reset()
			inWord, quoted = false, false
		}
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch c {
		case ' ', '\t', '\v', '\f', '\r':
			flush()
		case '#', '!':
			flush()
			return out, nil
		case '{', '}':
			flush()
			out = append(out, token{text: string(c), pos: pos})
		case '"':
			end := strings.IndexByte(line[i+1:], '"')
			if end < 0 {
				return nil, &Error{Pos: pos, Msg: fmt.Sprintf("unterminated quoted string %s", line[i:])}
			}
			cur.WriteString(line[i+1 : i+1+end])
			inWord, quoted = true, true
			i += end + 1
		default:
			if c < ' ' || c == 0x7f {
				return nil, &Error{Pos: pos, Msg: fmt.Sprintf("control character %q", c)}
			}
			cur.WriteByte(c)
			inWord = true
		}
	}
	flush()
	return out, nil
}

// node is a parsed directive: a name, its arguments on the same line and,
// for a block, its children.
type node struct {
	name     string
	pos      Pos
	args     []token
	block    bool
	children []*node
}

func (n *node) argStrings() []string {
	s := make([]string, len(n.args))
	for i, a := range n.args {
		s[i] = a.text
	}
	return s
}

// parseTokens builds the directive tree.
func parseTokens(toks []token) ([]*node, error) {
	p := &parser{toks: toks}
	nodes, err := p.statements(0, nil)
	if err != nil {
		return nil, err
	}
	return nodes, nil
}

type parser struct {
	toks []token
	i    int
}

func (p *parser) statements(depth int, parent *node) ([]*node, error) {
	var out []*node
	for p.i < len(p.toks) {
		t := p.toks[p.i]
		if t.isClose() {
			if parent == nil {
				return nil, &Error{Pos: t.pos, Msg: "unexpected '}'"}
			}
			p.i++
			return out, nil
		}
		if t.isOpen() {
			return nil, &Error{Pos: t.pos, Msg: "'{' without a directive before it"}
		}
		n := &node{name: t.text, pos: t.pos}
		p.i++
		for p.i < len(p.toks) {
			a := p.toks[p.i]
			if a.pos != t.pos || a.isOpen() || a.isClose() {
				break
			}
			n.args = append(n.args, a)
			p.i++
		}
		// A block opens on the directive's line or on the next one.
		if p.i < len(p.toks) && p.toks[p.i].isOpen() {
			if depth+1 > maxBlockDepth {
				return nil, &Error{Pos: t.pos, Directive: n.name, Msg: fmt.Sprintf("blocks nested deeper than %d", maxBlockDepth)}
			}
			p.i++
			n.block = true
			children, err := p.statements(depth+1, n)
			if err != nil {
				return nil, err
			}
			n.children = children
		}
		out = append(out, n)
	}
	if parent != nil {
		return nil, &Error{Pos: parent.pos, Directive: parent.name, Msg: "block has no closing '}'"}
	}
	return out, nil
}

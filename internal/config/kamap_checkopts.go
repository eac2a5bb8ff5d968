package config

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"unicode/utf8"
)

// regexSet is what a url block said about its regex.
type regexSet struct {
	pattern *node // the regex line
	options *node // the last regex_options line
	other   *node // another regex_* line
	opts    []string
	hasMax  bool
}

// regexKeyword reads the regex keywords of a url block as keepalived
// 2.2.7 reads them (check_http.c).
func (m *kaMapper) regexKeyword(n *node, u *URL, rx *regexSet) {
	if n.block {
		m.errf(n, "takes no block")
		return
	}
	switch n.name {
	case "regex":
		if len(n.args) != 1 {
			m.errf(n, "want one pattern (quote it if it has blanks); keepalived 2.2.7 ignores the line")
			return
		}
		p, err := kaUnescape(n.args[0].text)
		if err != nil {
			m.errf(n, "%s", err)
			return
		}
		u.Regex, rx.pattern = p, n
	case "regex_no_match":
		u.RegexNoMatch, rx.other = true, n
	case "regex_options":
		// keepalived ORs the options of every regex_options line of the
		// url and ignores names it does not know.
		rx.opts = append(rx.opts, n.argStrings()...)
		rx.options = n
	case "regex_min_offset", "regex_max_offset":
		s, ok := m.value(n)
		if !ok {
			return
		}
		v, err := strconv.ParseUint(s, 10, 31)
		if err != nil {
			m.errf(n, "%q is not an offset (keepalived 2.2.7 reads it as 0)", s)
			return
		}
		if n.name == "regex_min_offset" {
			u.RegexMinOffset = int(v)
		} else {
			u.RegexMaxOffset, rx.hasMax = int(v)+1, true
		}
		rx.other = n
	case "regex_stack":
		ws := n.argStrings()
		a, err1 := strconv.ParseUint(strings.Join(ws[:min(1, len(ws))], ""), 10, 64)
		b, err2 := strconv.ParseUint(strings.Join(ws[min(1, len(ws)):], ""), 10, 64)
		if len(ws) != 2 || err1 != nil || err2 != nil || a > b {
			m.errf(n, "want START MAX with START <= MAX, got %q (keepalived 2.2.7 ignores the line)", strings.Join(ws, " "))
			return
		}
		m.warnf(n, "accepted and ignored: PCRE2's JIT stack size; Go's regexp needs no such stack")
	}
}

// regexEnd finishes a url's regex as keepalived's url_check does, and
// translates it to Go's regexp, refusing what Go cannot match alike.
func (m *kaMapper) regexEnd(b *node, u *URL, rx *regexSet) {
	if rx.pattern == nil {
		if rx.options != nil || rx.other != nil {
			n := rx.other
			if n == nil {
				n = rx.options
			}
			m.warnf(n, "regex parameters without a regex: ignored, as keepalived 2.2.7 ignores them")
			u.RegexNoMatch, u.RegexMinOffset, u.RegexMaxOffset = false, 0, 0
		}
		return
	}
	if rx.hasMax && u.RegexMinOffset >= u.RegexMaxOffset {
		m.warnf(b, "regex_min_offset %d is above regex_max_offset %d: both ignored, as keepalived 2.2.7 ignores them", u.RegexMinOffset, u.RegexMaxOffset-1)
		u.RegexMinOffset, u.RegexMaxOffset = 0, 0
	}
	var known []string
	for _, o := range rx.opts {
		if _, ok := pcreOptions[o]; !ok {
			m.warnf(rx.options, "unknown regex option %q ignored, as keepalived 2.2.7 ignores it", o)
			continue
		}
		known = append(known, o)
	}
	u.RegexOptions = known
	goPat, bytes, err := GoRegexp(u.Regex, known, u.RegexMinOffset > 0)
	if err != nil {
		at := rx.pattern
		if rx.options != nil && strings.Contains(err.Error(), "option") {
			at = rx.options
		}
		m.errf(at, "%s", err)
		return
	}
	u.GoRegex, u.RegexBytes = goPat, bytes
}

// pcreOptions are keepalived's regex_options names; the value says what
// the option does for Go: a flag letter, "" for an option that changes
// nothing for the patterns Go accepts, or a reason to refuse it.
var pcreOptions = map[string]string{
	"caseless":            "i",
	"dotall":              "s",
	"multiline":           "m",
	"ungreedy":            "U",
	"utf":                 "utf",
	"dollar_endonly":      "dollar_endonly",
	"auto_callout":        "",
	"dupnames":            "",
	"match_unset_backref": "",
	"never_ucp":           "",
	"never_utf":           "",
	"no_auto_capture":     "",
	"no_auto_possess":     "",
	"no_dotstar_anchor":   "",
	"no_start_optimize":   "",
	"never_backslash_c":   "",
	"use_offset_limit":    "",
	"alt_verbnames":       "",
	"allow_empty_class":   "refuse: [] as an empty class",
	"alt_bsux":            "refuse: JavaScript escapes",
	"alt_circumflex":      "refuse: ^ after a final newline",
	"extended":            "refuse: blanks and comments in the pattern",
	"firstline":           "refuse: a match within the first line",
	"ucp":                 "refuse: Unicode \\d, \\w and \\s",
}

// GoRegexp translates a PCRE2 pattern, with keepalived's regex_options,
// to a Go regexp pattern that matches the same bodies at the same
// offsets, or returns an error naming what Go's regexp cannot do alike
// (backreferences, lookaround, atomic groups, possessive quantifiers,
// \v, \h, \R, \K and the like, which Go's parser refuses, and some
// options). bytes reports that the pattern (and so the body) is to be
// read one byte per character, as PCRE2 reads it without utf; the
// returned pattern is then in that encoding. fromOffset says the match
// starts past the body's start (regex_min_offset), where PCRE2 still
// sees the bytes before it: anchors and word boundaries are refused then.
func GoRegexp(pattern string, options []string, fromOffset bool) (goPattern string, bytes bool, err error) {
	flags := syntax.Perl
	bytes, dollarEnd := true, false
	for _, o := range options {
		switch v := pcreOptions[o]; {
		case strings.HasPrefix(v, "refuse: "):
			return "", false, fmt.Errorf("regex option %s (%s) has no counterpart in Go's regexp", o, strings.TrimPrefix(v, "refuse: "))
		case v == "i":
			flags |= syntax.FoldCase
		case v == "s":
			flags |= syntax.DotNL
		case v == "m":
			flags &^= syntax.OneLine
		case v == "U":
			flags |= syntax.NonGreedy
		case v == "utf":
			bytes = false
		case v == "dollar_endonly":
			dollarEnd = true
		}
	}
	src := pattern
	if bytes {
		src = latin1(pattern)
	} else if !utf8.ValidString(pattern) {
		return "", false, fmt.Errorf("regex %q: not UTF-8, with the utf option", pattern)
	}
	if hasEscape(pattern, 'v') {
		// PCRE2's \v is vertical white space, Go's the VT character.
		return "", false, fmt.Errorf("regex %q: \\v (vertical white space in PCRE2) has no counterpart in Go's regexp", pattern)
	}
	re, err := syntax.Parse(src, flags)
	if err != nil {
		why := err.Error()
		if se, ok := err.(*syntax.Error); ok {
			why = fmt.Sprintf("%s: `%s`", se.Code, se.Expr)
		}
		return "", false, fmt.Errorf("regex %q cannot be run by Go's regexp as PCRE2 runs it: %s", pattern, why)
	}
	var walkErr error
	var walk func(r *syntax.Regexp) *syntax.Regexp
	walk = func(r *syntax.Regexp) *syntax.Regexp {
		switch r.Op {
		case syntax.OpBeginText, syntax.OpBeginLine, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
			if fromOffset && walkErr == nil {
				walkErr = fmt.Errorf("regex %q: anchors and word boundaries with regex_min_offset: PCRE2 looks at the bytes before the offset, Go's regexp cannot", pattern)
			}
		case syntax.OpEndText:
			// PCRE2's $ (without multiline or dollar_endonly) also
			// matches before a final newline; Go's only at the end.
			if r.Flags&syntax.WasDollar != 0 && !dollarEnd {
				nl := &syntax.Regexp{Op: syntax.OpLiteral, Rune: []rune{'\n'}, Flags: r.Flags &^ syntax.FoldCase}
				return &syntax.Regexp{Op: syntax.OpConcat, Flags: r.Flags, Sub: []*syntax.Regexp{
					{Op: syntax.OpQuest, Flags: r.Flags, Sub: []*syntax.Regexp{nl}},
					{Op: syntax.OpEndText, Flags: r.Flags &^ syntax.WasDollar},
				}}
			}
		}
		for i, s := range r.Sub {
			r.Sub[i] = walk(s)
		}
		return r
	}
	re = walk(re)
	if walkErr != nil {
		return "", false, walkErr
	}
	goPattern = re.String()
	if _, err := regexp.Compile(goPattern); err != nil {
		return "", false, fmt.Errorf("regex %q: translated to %q, which Go's regexp refuses: %v", pattern, goPattern, err)
	}
	return goPattern, bytes, nil
}

// hasEscape reports whether pattern has the escape \c.
func hasEscape(pattern string, c byte) bool {
	for i := 0; i+1 < len(pattern); i++ {
		if pattern[i] == '\\' {
			if pattern[i+1] == c {
				return true
			}
			i++
		}
	}
	return false
}

// latin1 reads s one byte per character.
func latin1(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteRune(rune(s[i]))
	}
	return b.String()
}

// kaUnescape undoes the escapes keepalived 2.2.7 reads in a regex line
// (alloc_strvec_quoted_escaped): \xHH..., \cX, octal \N[N[N]], \a \b \E
// \f \n \r \t \v, and a backslash before any other character stands for
// that character (so \d is d: PCRE2's \d is written \\d); single quotes
// quote.
func kaUnescape(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\'' {
			continue
		}
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		if i == len(s) {
			return "", fmt.Errorf("%q: missing escaped character at the end", s)
		}
		c = s[i]
		switch {
		case c == 'x' && i+1 < len(s) && isHex(s[i+1]):
			var v byte
			for i+1 < len(s) && isHex(s[i+1]) {
				i++
				d, _ := strconv.ParseUint(s[i:i+1], 16, 8)
				v = v<<4 | byte(d)
			}
			b.WriteByte(v)
		case c == 'c' && i+1 < len(s):
			i++
			b.WriteByte(s[i] & 0x1f)
		case c >= '0' && c <= '7':
			v := c - '0'
			for k := 0; k < 2 && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '7'; k++ {
				i++
				v = v<<3 + s[i] - '0'
			}
			b.WriteByte(v)
		default:
			if e, ok := kaEscapes[c]; ok {
				c = e
			}
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

var kaEscapes = map[byte]byte{'a': '\a', 'b': '\b', 'E': 0x1b, 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t', 'v': '\v'}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// parseHexString reads a UDP_CHECK payload or reply as keepalived 2.2.7's
// read_hex_str does: hex digits, two per byte, blanks between bytes (a
// lone digit before a blank is one byte); with wildcards, x or X stands
// for any half byte, whose bits are set in mask (nil without one).
func parseHexString(s string, wildcards bool) (data, mask []byte, err error) {
	usesMask := false
	digit := func(c byte) (v, m byte, ok bool) {
		switch {
		case isHex(c):
			d, _ := strconv.ParseUint(string(c), 16, 8)
			return byte(d), 0, true
		case wildcards && (c == 'x' || c == 'X'):
			usesMask = true
			return 0, 0xf, true
		}
		return 0, 0, false
	}
	for i := 0; i < len(s); {
		if s[i] == ' ' || s[i] == '\t' {
			i++
			continue
		}
		v, m, ok := digit(s[i])
		if !ok {
			return nil, nil, fmt.Errorf("%q: %q is not a hex digit", s, s[i])
		}
		i++
		if i < len(s) && s[i] != ' ' {
			v2, m2, ok := digit(s[i])
			if !ok {
				return nil, nil, fmt.Errorf("%q: %q is not a hex digit", s, s[i])
			}
			v, m = v<<4|v2, m<<4|m2
			i++
		}
		data = append(data, v)
		mask = append(mask, m)
	}
	if len(data) == 0 {
		return nil, nil, fmt.Errorf("%q: no hex bytes", s)
	}
	if !usesMask {
		mask = nil
	}
	return data, mask, nil
}

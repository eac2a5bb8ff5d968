package config

import (
	"strconv"
	"strings"
)

// Error is a configuration error: where it is, which directive (or YAML
// field path) and what is wrong with it.
//
//	keepalived.conf:12: virtual_router_id: "abc" is not a number 1-255
type Error struct {
	Pos Pos
	// Directive is the keepalived directive or the YAML field path, such
	// as vrrp_instances[0].priority.
	Directive string
	Msg       string
}

func (e *Error) Error() string {
	var b strings.Builder
	if s := e.Pos.String(); s != "" {
		b.WriteString(s)
		b.WriteString(": ")
	}
	if e.Directive != "" {
		b.WriteString(e.Directive)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is a list of configuration errors, reported together. Readers and
// Validate return either nil or a non-empty Errors.
type Errors []*Error

func (es Errors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Unwrap gives errors.Is and errors.As access to each error.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// errList collects errors, keeping at most maxErrors.
type errList struct{ es Errors }

const maxErrors = 50

func (l *errList) add(pos Pos, directive, msg string) {
	if len(l.es) < maxErrors {
		l.es = append(l.es, &Error{Pos: pos, Directive: directive, Msg: msg})
	}
}

func (l *errList) err() error {
	if len(l.es) == 0 {
		return nil
	}
	return l.es
}

func itoa(i int) string { return strconv.Itoa(i) }

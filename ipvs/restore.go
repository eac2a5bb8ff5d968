package ipvs

import (
	"bufio"
	"fmt"
	"io"
)

// Restore reads ipvsadm rules from r (see ParseRules) and applies them in
// order, as ipvsadm -R does. Every line is parsed first: on a malformed
// line nothing is applied and the error wraps its *ParseError. The
// operations are then applied as Apply applies them, carrying on after a
// failure; failed operations are returned as a *RestoreError naming the
// line of each. Other errors (the connection failing midway) are returned
// as Apply returns them.
func (c *Client) Restore(r io.Reader) error {
	rules, err := ParseRuleLines(r)
	if err != nil {
		return fmt.Errorf("ipvs restore: nothing applied: %w", err)
	}
	ops := make([]Op, len(rules))
	for i, rl := range rules {
		ops[i] = rl.Op
	}
	err = c.Apply(ops)
	var failed []*OpError
	switch e := err.(type) {
	case nil:
		return nil
	case *ApplyError:
		failed = e.Errors
	case *OpError:
		if e.Op == "apply" {
			return err // no operation of its own: nothing was sent
		}
		failed = []*OpError{e}
	default:
		return err
	}
	re := &RestoreError{Operations: len(ops)}
	for _, f := range failed {
		le := &LineError{Err: f}
		if f.Index >= 0 && f.Index < len(rules) {
			le.Line = rules[f.Index].Line
		}
		re.Errors = append(re.Errors, le)
	}
	return re
}

// LineError is an operation of Restore that failed, with its line.
type LineError struct {
	Line int // 1-based line number of the rule
	Err  *OpError
}

func (e *LineError) Error() string { return "line " + itoa(e.Line) + ": " + e.Err.Error() }

// Unwrap returns the operation's error.
func (e *LineError) Unwrap() error { return e.Err }

// RestoreError reports the operations of a Restore that failed; the others
// were applied.
type RestoreError struct {
	// Errors are in the order of the lines.
	Errors []*LineError
	// Operations is how many operations the rules held.
	Operations int
}

func (e *RestoreError) Error() string {
	return fmt.Sprintf("ipvs restore: %d of %d operations failed", len(e.Errors), e.Operations)
}

// Unwrap returns the failures, so errors.Is matches any of them.
func (e *RestoreError) Unwrap() []error {
	errs := make([]error, len(e.Errors))
	for i, err := range e.Errors {
		errs[i] = err
	}
	return errs
}

// ReadTable reads a desired table from r: ipvsadm -S lines (see ParseRules)
// holding only -A lines, each declaring a service once, and -a lines, each
// adding a destination to a service an earlier -A line declares. Errors
// name the line.
func ReadTable(r io.Reader) (*Table, error) {
	rules, err := ParseRuleLines(r)
	if err != nil {
		return nil, err
	}
	t := &Table{}
	index := map[ServiceKey]int{}
	for _, rl := range rules {
		switch o := rl.Op; o.Kind {
		case AddService:
			k := o.Service.Key()
			if _, dup := index[k]; dup {
				return nil, fmt.Errorf("line %d: service %v declared twice", rl.Line, k)
			}
			index[k] = len(t.Services)
			t.Services = append(t.Services, VirtualServer{Service: o.Service})
		case AddDestination:
			i, ok := index[o.Service.Key()]
			if !ok {
				return nil, fmt.Errorf("line %d: destination for service %v, which no earlier -A line declares", rl.Line, o.Service.Key())
			}
			t.Services[i].Destinations = append(t.Services[i].Destinations, o.Destination)
		default:
			return nil, fmt.Errorf("line %d: %q: a table holds only -A and -a lines", rl.Line, o.String())
		}
	}
	return t, nil
}

// WriteOps writes each operation as its ipvsadm command line (see
// Op.String), one per line: a plan in the form ParseRules reads back.
func WriteOps(w io.Writer, ops []Op) error {
	bw := bufio.NewWriter(w)
	for _, o := range ops {
		bw.WriteString(o.String())
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// ParseTimeouts parses the three connection timeouts as ipvsadm --set
// takes them: TCP, TCP FIN and UDP, in whole seconds up to 31 days, 0
// leaving a value unchanged.
func ParseTimeouts(args []string) (Timeouts, error) {
	if len(args) != 3 {
		return Timeouts{}, fmt.Errorf("ipvs: want three timeouts (TCP TCPFIN UDP), got %d", len(args))
	}
	op, perr := parseRule(append([]string{"--set"}, args...))
	switch {
	case perr == nil:
		return op.Timeouts, nil
	case perr.Token != "":
		return Timeouts{}, fmt.Errorf("ipvs: timeout %q: %s", perr.Token, perr.Msg)
	}
	return Timeouts{}, fmt.Errorf("ipvs: timeouts: %s", perr.Msg)
}

// Save writes the kernel's table as ipvsadm -Sn does (see WriteRules).
func (c *Client) Save(w io.Writer) error {
	t, err := c.Table()
	if err != nil {
		return err
	}
	return WriteRules(w, t)
}

// List writes the kernel's table as ipvsadm -Ln does with the options of f
// (see WriteList).
func (c *Client) List(w io.Writer, f ListFormat) error {
	info, err := c.Info()
	if err != nil {
		return err
	}
	t, err := c.Table()
	if err != nil {
		return err
	}
	return WriteList(w, info, t, f)
}

package ipvs

import (
	"errors"
	"fmt"
	"slices"

	"github.com/mdlayher/netlink"
)

// Apply performs the operations in order, pipelined: it writes up to
// Config.BatchSize requests in one message to the kernel, only the last of
// each batch asking for an acknowledgement (the kernel reports every failure
// anyway), and then reads the answers. The kernel carries on after a failed operation,
// as ipvsadm -R does.
//
// Every operation is validated before anything is sent: on a validation
// error nothing is applied. A single failed operation is returned as its
// *OpError; several as an *ApplyError listing each. Both match the package's
// sentinel errors with errors.Is.
func (c *Client) Apply(ops []Op) error {
	msgs := make([]netlink.Message, len(ops))
	for i, o := range ops {
		if err := o.validate(); err != nil {
			return fmt.Errorf("operation %d (%s): %w", i+1, o.Kind, err)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return &OpError{Op: "apply", Err: errClosed}
	}
	for i, o := range ops {
		cmd, enc := o.encode()
		m, err := c.message(cmd, netlink.Request, enc)
		if err != nil {
			return &OpError{Op: o.Kind.String(), Target: o.target(), Err: err}
		}
		msgs[i] = m
	}
	var failed []*OpError
	for start := 0; start < len(msgs); start += c.batch {
		end := min(start+c.batch, len(msgs))
		fs, err := c.sendBatch(start, ops[start:end], msgs[start:end])
		failed = append(failed, fs...)
		if err != nil {
			// The fate of the unconfirmed operations is unknown.
			return errors.Join(joinFailures(failed), err)
		}
	}
	return joinFailures(failed)
}

func joinFailures(failed []*OpError) error {
	switch len(failed) {
	case 0:
		return nil
	case 1:
		return failed[0]
	}
	return &ApplyError{Errors: failed}
}

// sendBatch writes one batch and collects the failures reported for it.
//
// The batch ends with a request for an acknowledgement, which the kernel
// sends after it has answered everything before it. That is the last
// operation, unless the kernel may leave it unanswered: then it is a
// NLMSG_NOOP of its own. The kernel answers nothing at all to a request
// whose handler returns -EINTR (netlink_rcv_skb in
// net/netlink/af_netlink.c), and IPVS's DEL_DAEMON does so when the sync
// thread it stops has not run yet (kthread_stop returns -EINTR then;
// kernel/kthread.c): a daemon stopped right after its start would
// otherwise leave the reader waiting for ever. The daemon is stopped all
// the same, so the unanswered operation counts as done.
func (c *Client) sendBatch(base int, ops []Op, msgs []netlink.Message) ([]*OpError, error) {
	if slices.ContainsFunc(ops, func(o Op) bool { return o.Kind == StopDaemon }) {
		msgs = append(slices.Clip(msgs), netlink.Message{Header: netlink.Header{Type: netlink.Noop, Flags: netlink.Request | netlink.Acknowledge}})
	} else {
		msgs[len(msgs)-1].Header.Flags |= netlink.Acknowledge
	}
	sent, err := c.c.SendMessages(msgs)
	if err != nil {
		return nil, &OpError{Op: "apply", Err: fmt.Errorf("sending %d requests: %w", len(ops), errnoOf(err))}
	}
	first := sent[0].Header.Sequence
	last := sent[len(sent)-1].Header.Sequence
	var failed []*OpError
	for {
		replies, err := c.c.Receive()
		if err != nil {
			var ne *netlink.OpError
			if errors.As(err, &ne) && ne.Sequence != 0 {
				i := int(ne.Sequence - first)
				if i >= 0 && i < len(ops) {
					failed = append(failed, &OpError{Op: ops[i].Kind.String(), Target: ops[i].target(), Err: errnoOf(err), Index: base + i})
					if ne.Sequence == last {
						return failed, nil
					}
					continue
				}
			}
			return failed, &OpError{Op: "apply", Err: fmt.Errorf("reading acknowledgements: %w", errnoOf(err))}
		}
		for _, r := range replies {
			if r.Header.Type == netlink.Error && r.Header.Sequence == last {
				return failed, nil
			}
		}
	}
}

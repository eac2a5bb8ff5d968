package ipvs

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// FamilyName is the generic netlink family of IPVS.
const FamilyName = "IPVS"

// familyVersion is the IPVS generic netlink family version.
const familyVersion = 1

// DefaultBatchSize is how many write requests Apply sends in one message to
// the kernel.
const DefaultBatchSize = 256

// Config configures a Client. A nil *Config means defaults.
type Config struct {
	// NetNS is a file descriptor of the network namespace to work in (as
	// from github.com/vishvananda/netns). Zero means the namespace of the
	// calling thread.
	NetNS int
	// BatchSize is how many write requests Apply sends in one message to the
	// kernel; zero means DefaultBatchSize.
	BatchSize int
}

// Client talks to the kernel's IPVS over generic netlink. Its methods are
// safe for concurrent use; requests are serialized.
type Client struct {
	mu     sync.Mutex
	c      *netlink.Conn
	family uint16
	batch  int
	closed bool
}

// New returns a Client over an open generic netlink connection (as from
// netlink.Dial(unix.NETLINK_GENERIC, ...), or a fake in tests). It resolves
// the IPVS family and returns an error matching ErrNotAvailable when the
// kernel has none. The Client owns c from then on, also on error.
func New(c *netlink.Conn, cfg *Config) (*Client, error) {
	if cfg == nil {
		cfg = &Config{}
	}
	if cfg.BatchSize < 0 {
		_ = c.Close()
		return nil, fmt.Errorf("ipvs: batch size %d is negative", cfg.BatchSize)
	}
	f, err := genetlink.NewConn(c).GetFamily(FamilyName)
	if err != nil {
		_ = c.Close()
		return nil, &OpError{Op: "resolve-family", Target: FamilyName, Err: errnoOf(err)}
	}
	batch := cfg.BatchSize
	if batch == 0 {
		batch = DefaultBatchSize
	}
	return &Client{c: c, family: f.ID, batch: batch}, nil
}

// Close releases the connection. It may be called more than once, and on a
// nil Client.
func (c *Client) Close() error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.c == nil {
		return nil
	}
	c.closed = true
	return c.c.Close()
}

var errClosed = errors.New("client is closed")

// errnoOf returns the errno inside a netlink error, or err itself.
func errnoOf(err error) error {
	var errno unix.Errno
	if errors.As(err, &errno) {
		return errno
	}
	if errors.Is(err, os.ErrNotExist) {
		return unix.ENOENT
	}
	return err
}

// message builds a netlink request for cmd with the attributes of enc.
func (c *Client) message(cmd uint8, flags netlink.HeaderFlags, enc func(*netlink.AttributeEncoder)) (netlink.Message, error) {
	var data []byte
	if enc != nil {
		ae := netlink.NewAttributeEncoder()
		enc(ae)
		b, err := ae.Encode()
		if err != nil {
			return netlink.Message{}, err
		}
		data = b
	}
	gm := genetlink.Message{Header: genetlink.Header{Command: cmd, Version: familyVersion}, Data: data}
	b, err := gm.MarshalBinary()
	if err != nil {
		return netlink.Message{}, err
	}
	return netlink.Message{Header: netlink.Header{Type: netlink.HeaderType(c.family), Flags: flags}, Data: b}, nil
}

// execute sends one request and returns the generic netlink payloads of the
// replies.
func (c *Client) execute(op, target string, cmd uint8, flags netlink.HeaderFlags, enc func(*netlink.AttributeEncoder)) ([]genetlink.Message, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, &OpError{Op: op, Target: target, Err: errClosed}
	}
	m, err := c.message(cmd, flags, enc)
	if err != nil {
		return nil, &OpError{Op: op, Target: target, Err: err}
	}
	replies, err := c.c.Execute(m)
	if err != nil {
		return nil, &OpError{Op: op, Target: target, Err: errnoOf(err)}
	}
	out := make([]genetlink.Message, 0, len(replies))
	for _, r := range replies {
		if r.Header.Type == netlink.Error || r.Header.Type == netlink.Done {
			continue // an acknowledgement
		}
		var gm genetlink.Message
		if err := gm.UnmarshalBinary(r.Data); err != nil {
			return nil, &OpError{Op: op, Target: target, Err: fmt.Errorf("malformed reply: %w", err)}
		}
		out = append(out, gm)
	}
	return out, nil
}

// nested returns the payload of the top-level attribute typ in a reply.
func nested(gm genetlink.Message, typ uint16) ([]byte, error) {
	ad, err := netlink.NewAttributeDecoder(gm.Data)
	if err != nil {
		return nil, err
	}
	for ad.Next() {
		if ad.Type() == typ {
			return ad.Bytes(), nil
		}
	}
	if err := ad.Err(); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("reply has no attribute %d", typ)
}

// Info returns the IPVS version and connection table size.
func (c *Client) Info() (Info, error) {
	msgs, err := c.execute("get-info", "", cmdGetInfo, netlink.Request, nil)
	if err != nil {
		return Info{}, err
	}
	if len(msgs) != 1 {
		return Info{}, &OpError{Op: "get-info", Err: fmt.Errorf("%d replies, want 1", len(msgs))}
	}
	in, err := decodeInfo(msgs[0].Data)
	if err != nil {
		return Info{}, &OpError{Op: "get-info", Err: err}
	}
	return in, nil
}

// Services lists the virtual services (without destinations), in the
// kernel's order.
func (c *Client) Services() ([]Service, error) {
	msgs, err := c.execute("list-services", "", cmdGetService, netlink.Request|netlink.Dump, nil)
	if err != nil {
		return nil, err
	}
	out := make([]Service, 0, len(msgs))
	for _, m := range msgs {
		b, err := nested(m, attrService)
		if err == nil {
			var s Service
			s, err = decodeService(b)
			out = append(out, s)
		}
		if err != nil {
			return nil, &OpError{Op: "list-services", Err: err}
		}
	}
	return out, nil
}

// Service returns one service by its identity (see Service.Key), with its
// settings and stats. It returns an error matching ErrServiceNotFound when
// there is none.
func (c *Client) Service(s Service) (Service, error) {
	if err := validateService(s, false); err != nil {
		return Service{}, err
	}
	msgs, err := c.execute("get-service", s.String(), cmdGetService, netlink.Request, func(ae *netlink.AttributeEncoder) {
		encodeService(ae, s, false)
	})
	if err != nil {
		return Service{}, err
	}
	if len(msgs) != 1 {
		return Service{}, &OpError{Op: "get-service", Target: s.String(), Err: fmt.Errorf("%d replies, want 1", len(msgs))}
	}
	b, err := nested(msgs[0], attrService)
	if err != nil {
		return Service{}, &OpError{Op: "get-service", Target: s.String(), Err: err}
	}
	got, err := decodeService(b)
	if err != nil {
		return Service{}, &OpError{Op: "get-service", Target: s.String(), Err: err}
	}
	return got, nil
}

// CreateService adds a virtual service. Errors match ErrExists and
// ErrSchedulerNotAvailable.
func (c *Client) CreateService(s Service) error {
	return c.Apply([]Op{{Kind: AddService, Service: s}})
}

// UpdateService changes the settings of a service. Errors match
// ErrServiceNotFound and ErrSchedulerNotAvailable.
func (c *Client) UpdateService(s Service) error {
	return c.Apply([]Op{{Kind: UpdateService, Service: s}})
}

// DeleteService removes a service and its destinations. Errors match
// ErrServiceNotFound.
func (c *Client) DeleteService(s Service) error {
	return c.Apply([]Op{{Kind: DeleteService, Service: s}})
}

// Destinations lists the destinations of a service. A service that does not
// exist has none.
func (c *Client) Destinations(s Service) ([]Destination, error) {
	if err := validateService(s, false); err != nil {
		return nil, err
	}
	msgs, err := c.execute("list-destinations", s.String(), cmdGetDest, netlink.Request|netlink.Dump, func(ae *netlink.AttributeEncoder) {
		encodeService(ae, s, false)
	})
	if err != nil {
		return nil, err
	}
	out := make([]Destination, 0, len(msgs))
	for _, m := range msgs {
		b, err := nested(m, attrDest)
		if err == nil {
			var d Destination
			d, err = decodeDestination(b, s.Fam())
			out = append(out, d)
		}
		if err != nil {
			return nil, &OpError{Op: "list-destinations", Target: s.String(), Err: err}
		}
	}
	return out, nil
}

// CreateDestination adds a destination to service s. Errors match ErrExists
// and ErrServiceNotFound.
func (c *Client) CreateDestination(s Service, d Destination) error {
	return c.Apply([]Op{{Kind: AddDestination, Service: s, Destination: d}})
}

// UpdateDestination changes a destination. Errors match
// ErrDestinationNotFound and ErrServiceNotFound.
func (c *Client) UpdateDestination(s Service, d Destination) error {
	return c.Apply([]Op{{Kind: UpdateDestination, Service: s, Destination: d}})
}

// DeleteDestination removes a destination. Errors match
// ErrDestinationNotFound and ErrServiceNotFound.
func (c *Client) DeleteDestination(s Service, d Destination) error {
	return c.Apply([]Op{{Kind: DeleteDestination, Service: s, Destination: d}})
}

// Table reads every service with its destinations.
func (c *Client) Table() (*Table, error) {
	svcs, err := c.Services()
	if err != nil {
		return nil, err
	}
	t := &Table{Services: make([]VirtualServer, 0, len(svcs))}
	for _, s := range svcs {
		ds, err := c.Destinations(s)
		if err != nil {
			return nil, err
		}
		t.Services = append(t.Services, VirtualServer{Service: s, Destinations: ds})
	}
	return t, nil
}

// Timeouts returns the TCP, TCP FIN and UDP connection timeouts.
func (c *Client) Timeouts() (Timeouts, error) {
	msgs, err := c.execute("get-timeouts", "", cmdGetConfig, netlink.Request, nil)
	if err != nil {
		return Timeouts{}, err
	}
	if len(msgs) != 1 {
		return Timeouts{}, &OpError{Op: "get-timeouts", Err: fmt.Errorf("%d replies, want 1", len(msgs))}
	}
	t, err := decodeTimeouts(msgs[0].Data)
	if err != nil {
		return Timeouts{}, &OpError{Op: "get-timeouts", Err: err}
	}
	return t, nil
}

// SetTimeouts sets the connection timeouts; a zero field is left unchanged.
func (c *Client) SetTimeouts(t Timeouts) error {
	return c.Apply([]Op{{Kind: SetTimeouts, Timeouts: t}})
}

// Flush removes every service.
func (c *Client) Flush() error {
	return c.Apply([]Op{{Kind: Flush}})
}

// ZeroService resets the counters of one service and its destinations.
func (c *Client) ZeroService(s Service) error {
	return c.Apply([]Op{{Kind: Zero, Service: s}})
}

// ZeroAll resets the counters of every service.
func (c *Client) ZeroAll() error {
	return c.Apply([]Op{{Kind: Zero}})
}

// Daemons lists the running connection sync daemons.
func (c *Client) Daemons() ([]Daemon, error) {
	msgs, err := c.execute("list-daemons", "", cmdGetDaemon, netlink.Request|netlink.Dump, nil)
	if err != nil {
		return nil, err
	}
	var out []Daemon
	for _, m := range msgs {
		b, err := nested(m, attrDaemon)
		if err == nil {
			var d Daemon
			d, err = decodeDaemon(b)
			out = append(out, d)
		}
		if err != nil {
			return nil, &OpError{Op: "list-daemons", Err: err}
		}
	}
	return out, nil
}

// StartDaemon starts a connection sync daemon. Errors match ErrExists.
func (c *Client) StartDaemon(d Daemon) error {
	return c.Apply([]Op{{Kind: StartDaemon, Daemon: d}})
}

// StopDaemon stops the sync daemon in the given state.
func (c *Client) StopDaemon(state DaemonState) error {
	return c.Apply([]Op{{Kind: StopDaemon, Daemon: Daemon{State: state}}})
}

func itoa(i int) string { return strconv.Itoa(i) }

package ipvs

import (
	"fmt"

	"github.com/mdlayher/netlink"
)

// OpKind is the kind of a write operation.
type OpKind uint8

// Operation kinds.
const (
	AddService OpKind = iota + 1
	UpdateService
	DeleteService
	AddDestination
	UpdateDestination
	DeleteDestination
	Flush
	// Zero resets counters: of Op.Service, or of all services when
	// Op.Service is the zero Service.
	Zero
	SetTimeouts
	StartDaemon
	StopDaemon
)

var opNames = [...]string{
	AddService:        "add-service",
	UpdateService:     "update-service",
	DeleteService:     "delete-service",
	AddDestination:    "add-destination",
	UpdateDestination: "update-destination",
	DeleteDestination: "delete-destination",
	Flush:             "flush",
	Zero:              "zero",
	SetTimeouts:       "set-timeouts",
	StartDaemon:       "start-daemon",
	StopDaemon:        "stop-daemon",
}

func (k OpKind) String() string {
	if int(k) < len(opNames) && opNames[k] != "" {
		return opNames[k]
	}
	return fmt.Sprintf("op(%d)", k)
}

// Op is one write operation on the IPVS table.
type Op struct {
	Kind        OpKind
	Service     Service     // for service and destination operations, and Zero
	Destination Destination // for destination operations
	Timeouts    Timeouts    // for SetTimeouts
	Daemon      Daemon      // for StartDaemon and StopDaemon
}

// String renders the operation as the ipvsadm command line that does the
// same, such as "-a -t 10.0.0.1:80 -r 10.1.0.1:80 -g -w 1".
func (o Op) String() string { return opRule(o) }

// target names the object of the operation for errors.
func (o Op) target() string {
	switch o.Kind {
	case AddService, UpdateService, DeleteService:
		return o.Service.String()
	case AddDestination, UpdateDestination, DeleteDestination:
		return o.Service.String() + " -> " + o.Destination.Key(o.Service).String()
	case Zero:
		if o.Service.Key() == (Service{}).Key() {
			return ""
		}
		return o.Service.String()
	case StartDaemon, StopDaemon:
		return o.Daemon.State.String()
	}
	return ""
}

// allServices reports whether a Zero operation addresses every service.
func (o Op) allServices() bool {
	return o.Service.FWMark == 0 && !o.Service.Address.IsValid()
}

// validate checks an operation before anything is sent.
func (o Op) validate() error {
	switch o.Kind {
	case AddService, UpdateService:
		return validateService(o.Service, true)
	case DeleteService:
		return validateService(o.Service, false)
	case AddDestination, UpdateDestination, DeleteDestination:
		if err := validateService(o.Service, false); err != nil {
			return err
		}
		return validateDestination(o.Service, o.Destination)
	case Zero:
		if o.allServices() {
			return nil
		}
		return validateService(o.Service, false)
	case Flush, SetTimeouts:
		return nil
	case StartDaemon:
		if o.Daemon.State != DaemonMaster && o.Daemon.State != DaemonBackup {
			return fmt.Errorf("ipvs: sync daemon state %d is neither master nor backup", o.Daemon.State)
		}
		if o.Daemon.Interface == "" || len(o.Daemon.Interface) > maxIfName {
			return fmt.Errorf("ipvs: sync daemon interface %q: want 1..%d bytes", o.Daemon.Interface, maxIfName)
		}
		if o.Daemon.SyncID > maxSyncID {
			return fmt.Errorf("ipvs: sync daemon syncid %d: want 0..%d (one byte in the sync messages)", o.Daemon.SyncID, maxSyncID)
		}
		if g := o.Daemon.Group; g.IsValid() && !g.IsMulticast() {
			return fmt.Errorf("ipvs: sync daemon group %v is not multicast", g)
		}
		return nil
	case StopDaemon:
		if o.Daemon.State != DaemonMaster && o.Daemon.State != DaemonBackup {
			return fmt.Errorf("ipvs: sync daemon state %d is neither master nor backup", o.Daemon.State)
		}
		return nil
	}
	return fmt.Errorf("ipvs: unknown operation kind %d", o.Kind)
}

// encode returns the command and attributes of the operation.
func (o Op) encode() (uint8, func(*netlink.AttributeEncoder)) {
	s, d := o.Service, o.Destination
	switch o.Kind {
	case AddService, UpdateService:
		cmd := uint8(cmdNewService)
		if o.Kind == UpdateService {
			cmd = cmdSetService
		}
		return cmd, func(ae *netlink.AttributeEncoder) { encodeService(ae, s, true) }
	case DeleteService:
		return cmdDelService, func(ae *netlink.AttributeEncoder) { encodeService(ae, s, false) }
	case AddDestination, UpdateDestination, DeleteDestination:
		cmd := map[OpKind]uint8{AddDestination: cmdNewDest, UpdateDestination: cmdSetDest, DeleteDestination: cmdDelDest}[o.Kind]
		full := o.Kind != DeleteDestination
		return cmd, func(ae *netlink.AttributeEncoder) {
			encodeService(ae, s, false)
			encodeDestination(ae, s, d, full)
		}
	case Flush:
		return cmdFlush, nil
	case Zero:
		if o.allServices() {
			return cmdZero, nil
		}
		return cmdZero, func(ae *netlink.AttributeEncoder) { encodeService(ae, s, false) }
	case SetTimeouts:
		t := o.Timeouts
		return cmdSetConfig, func(ae *netlink.AttributeEncoder) {
			ae.Uint32(attrTimeoutTCP, t.TCP)
			ae.Uint32(attrTimeoutFin, t.TCPFin)
			ae.Uint32(attrTimeoutUDP, t.UDP)
		}
	case StartDaemon:
		return cmdNewDaemon, func(ae *netlink.AttributeEncoder) { encodeDaemon(ae, o.Daemon, true) }
	case StopDaemon:
		return cmdDelDaemon, func(ae *netlink.AttributeEncoder) { encodeDaemon(ae, o.Daemon, false) }
	}
	return 0, nil
}

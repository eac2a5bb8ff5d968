package ipvs

import "fmt"

// PlanOptions tune Plan. A nil *PlanOptions means defaults.
type PlanOptions struct {
	// Prune deletes the services of current that desired does not name.
	// Without it, services outside desired are left alone.
	Prune bool
}

// Plan returns the fewest operations that turn current into desired: a
// missing service is added, a service whose settings differ is updated, a
// destination whose weight, thresholds, forwarding or tunnel differ is
// updated in place (never deleted and added again, so its connections
// survive), and destinations of a desired service that desired does not list
// are deleted. Services outside desired are deleted only with opts.Prune.
// When current already matches, Plan returns no operations.
//
// Destination ports left zero mean the service's port. Plan returns an error
// naming the entry when desired holds a service or destination twice, or an
// invalid one.
func Plan(current, desired *Table, opts *PlanOptions) ([]Op, error) {
	if opts == nil {
		opts = &PlanOptions{}
	}
	if desired == nil {
		desired = &Table{}
	}
	if current == nil {
		current = &Table{}
	}
	cur := make(map[ServiceKey]VirtualServer, len(current.Services))
	for _, vs := range current.Services {
		cur[vs.Service.Key()] = vs
	}
	want := make(map[ServiceKey]bool, len(desired.Services))
	for i, vs := range desired.Services {
		k := vs.Service.Key()
		if want[k] {
			return nil, fmt.Errorf("ipvs: desired service %d (%v) appears twice", i+1, k)
		}
		want[k] = true
		if err := validateService(vs.Service, true); err != nil {
			return nil, err
		}
		seen := make(map[DestinationKey]bool, len(vs.Destinations))
		for _, d := range vs.Destinations {
			dk := d.Key(vs.Service)
			if seen[dk] {
				return nil, fmt.Errorf("ipvs: desired service %v: destination %v appears twice", k, dk)
			}
			seen[dk] = true
			if err := validateDestination(vs.Service, d); err != nil {
				return nil, err
			}
		}
	}

	var ops []Op
	if opts.Prune {
		for _, vs := range current.Services {
			if !want[vs.Service.Key()] {
				ops = append(ops, Op{Kind: DeleteService, Service: vs.Service})
			}
		}
	}
	for _, vs := range desired.Services {
		s := vs.Service
		have, ok := cur[s.Key()]
		if !ok {
			ops = append(ops, Op{Kind: AddService, Service: s})
			for _, d := range vs.Destinations {
				ops = append(ops, Op{Kind: AddDestination, Service: s, Destination: d})
			}
			continue
		}
		if !sameService(have.Service, s) {
			ops = append(ops, Op{Kind: UpdateService, Service: s})
		}
		haveDests := make(map[DestinationKey]Destination, len(have.Destinations))
		for _, d := range have.Destinations {
			haveDests[d.Key(have.Service)] = d
		}
		wantDests := make(map[DestinationKey]bool, len(vs.Destinations))
		for _, d := range vs.Destinations {
			wantDests[d.Key(s)] = true
		}
		for _, d := range have.Destinations {
			if !wantDests[d.Key(have.Service)] {
				ops = append(ops, Op{Kind: DeleteDestination, Service: s, Destination: d})
			}
		}
		for _, d := range vs.Destinations {
			hd, ok := haveDests[d.Key(s)]
			switch {
			case !ok:
				ops = append(ops, Op{Kind: AddDestination, Service: s, Destination: d})
			case !sameDestination(hd, d):
				ops = append(ops, Op{Kind: UpdateDestination, Service: s, Destination: d})
			}
		}
	}
	return ops, nil
}

// sameService compares the settings a write sets.
func sameService(a, b Service) bool {
	return a.scheduler() == b.scheduler() &&
		a.Flags&userFlags == b.Flags&userFlags &&
		a.Timeout == b.Timeout &&
		a.netmaskBits() == b.netmaskBits() &&
		a.PersistenceEngine == b.PersistenceEngine
}

// sameDestination compares the settings a write sets.
func sameDestination(a, b Destination) bool {
	return a.Fam() == b.Fam() &&
		a.Forward == b.Forward &&
		a.Weight == b.Weight &&
		a.UpperThreshold == b.UpperThreshold &&
		a.LowerThreshold == b.LowerThreshold &&
		a.TunnelType == b.TunnelType &&
		a.TunnelPort == b.TunnelPort &&
		a.TunnelFlags == b.TunnelFlags
}

// Plan reads the kernel's table and returns the operations that would make
// it match desired (see the function Plan), without applying them.
func (c *Client) Plan(desired *Table, opts *PlanOptions) ([]Op, error) {
	current, err := c.Table()
	if err != nil {
		return nil, err
	}
	return Plan(current, desired, opts)
}

// Reconcile reads the kernel's table, plans the operations that make it
// match desired (see Plan) and applies them. It returns the operations it
// performed (attempted), and the error of Apply.
func (c *Client) Reconcile(desired *Table, opts *PlanOptions) ([]Op, error) {
	ops, err := c.Plan(desired, opts)
	if err != nil {
		return nil, err
	}
	return ops, c.Apply(ops)
}

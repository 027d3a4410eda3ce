package serial

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"

	"github.com/buttonhook/buttonhook/device"
)

// portSet is the core the serial drivers share: the ports a driver looks
// for, each with its options, which Scan finds on the file system and Open
// looks up. It is safe for concurrent use: the list may be set while a
// Manager scans.
type portSet[O any] struct {
	driver string         // the driver's name, in Candidates
	what   string         // what the driver opens, for errors: "Firmata board"
	port   func(O) string // the port path of an entry
	clone  func(O) O      // a deep copy, so that callers cannot change an entry

	mu   sync.Mutex
	list []O
}

// set replaces the list with copies of list.
func (s *portSet[O]) set(list []O) {
	cs := s.copyOf(list)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.list = cs
}

// get returns a copy of the list.
func (s *portSet[O]) get() []O {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.copyOf(s.list)
}

func (s *portSet[O]) copyOf(list []O) []O {
	cs := make([]O, len(list))
	for i, o := range list {
		cs[i] = s.clone(o)
	}
	return cs
}

// validate checks every entry of list with check and that no port appears
// twice. Each problem is one error, joined, its field path prefixed with
// the entry's index ("[0].buttons[1].pin: ...").
func (s *portSet[O]) validate(list []O, check func(O) error) error {
	var errs []error
	seen := map[string]int{}
	for i, o := range list {
		errs = append(errs, prefixErrors(fmt.Sprintf("[%d].", i), check(o)))
		p := s.port(o)
		if j, dup := seen[p]; dup && p != "" {
			errs = append(errs, fieldError(fmt.Sprintf("[%d].port", i), "%s is already configured at [%d]", p, j))
		}
		seen[p] = i
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%s ports: %w", s.driver, err)
	}
	return nil
}

// scan returns a Candidate for each port of the list that exists now. It
// only looks at the file system.
func (s *portSet[O]) scan(ctx context.Context) ([]device.Candidate, error) {
	var cs []device.Candidate
	for _, o := range s.get() {
		if err := ctx.Err(); err != nil {
			return cs, err
		}
		if p := s.port(o); exists(p) {
			cs = append(cs, device.Candidate{Key: p, Driver: s.driver})
		}
	}
	return cs, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// lookup returns the entry for the port of c, a Candidate of this driver.
func (s *portSet[O]) lookup(c device.Candidate) (O, error) {
	var zero O
	if err := checkCandidate(c, s.driver); err != nil {
		return zero, err
	}
	for _, o := range s.get() {
		if s.port(o) == c.Key {
			return o, nil
		}
	}
	return zero, fmt.Errorf("open %s: no %s is configured on this port", c.Key, s.what)
}

// checkCandidate fails for a Candidate of another driver.
func checkCandidate(c device.Candidate, driver string) error {
	if c.Driver != "" && c.Driver != driver {
		return fmt.Errorf("open %s: candidate of driver %q, not %q", c.Key, c.Driver, driver)
	}
	return nil
}

// portDriver is the core of the Firmata and lines drivers: it opens the
// ports configured with setPorts, each with its options O, as devices D.
// The drivers wrap its methods, so that their documentation names their
// own types.
type portDriver[O any, D device.Device] struct {
	logger *slog.Logger
	// serialNumber finds a port's USB serial number, for a stable ID.
	serialNumber func(path string) string
	ports        portSet[O]
	validate     func(O) error
	open         func(context.Context, O) (D, error)
}

// setPorts validates every entry of configs and, if none is wrong, makes
// them the ports to look for; otherwise it changes nothing and returns the
// problems.
func (d *portDriver[O, D]) setPorts(configs []O) error {
	if err := d.ports.validate(configs, d.validate); err != nil {
		return err
	}
	d.ports.set(configs)
	return nil
}

// openCandidate opens the entry configured for the port of c.
func (d *portDriver[O, D]) openCandidate(ctx context.Context, c device.Candidate) (device.Device, error) {
	o, err := d.ports.lookup(c)
	if err != nil {
		return nil, err
	}
	dev, err := d.open(ctx, o)
	if err != nil {
		return nil, err // not a typed nil in the interface
	}
	return dev, nil
}

package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/buttonhook/buttonhook/device"
	"github.com/buttonhook/buttonhook/device/serial"
)

// DeviceState is a device as the user sees it: connected or not, why not,
// since when, and how often it came back.
type DeviceState struct {
	device.Info
	Connected bool `json:"connected"`
	// Error is why it is not connected: the error it went away with, or why
	// it could not be opened.
	Error string `json:"error,omitempty"`
	// Since is when it connected or went away (zero when it was never seen).
	Since time.Time `json:"since,omitzero"`
	// Reconnects counts the times it came back after it went away, since
	// Buttonhook started.
	Reconnects int `json:"reconnects"`
	// Protocol is the protocol its port is configured with (BH1, Firmata,
	// lines); empty for USB devices.
	Protocol string `json:"protocol,omitempty"`
}

// DeviceConfig returns the current devices section.
func (e *Engine) DeviceConfig() Devices {
	e.cfg.Lock()
	defer e.cfg.Unlock()
	return e.config.devices.clone()
}

// SetDeviceConfig replaces the devices section with d (USB keeps its
// setting when d leaves it out), validated as an import's. Devices that
// left it, or whose settings changed, are closed at once (and those that
// changed opened again).
func (e *Engine) SetDeviceConfig(d Devices) error {
	e.cfgMu.Lock()
	defer e.cfgMu.Unlock()
	old := e.Config()
	devs, problems := mergeDevices(old.devices, &d, nil, true)
	if len(problems) > 0 {
		return ImportError(problems)
	}
	if err := e.store.ApplyConfig(devs.changes()); err != nil {
		return fmt.Errorf("save device settings: %w", err)
	}
	e.cfg.Lock()
	e.config.devices = devs
	e.cfg.Unlock()
	e.applyDevices(old.devices, devs)
	e.bus.publish(Event{Kind: ConfigChanged})
	return nil
}

// bh1Ports are the configured BH1 ports plus the ones given on the command
// line, except those configured with another protocol.
func (e *Engine) bh1Ports(d Devices) []string {
	paths := slices.Clone(d.BH1)
	for _, p := range e.extra {
		if proto := d.Protocol(p); proto != "" && proto != protoBH1 {
			continue // applyDevices warns
		}
		if !slices.Contains(paths, p) {
			paths = append(paths, p)
		}
	}
	return paths
}

// applyDevices gives the drivers the devices section now, closes the open
// devices it no longer has or whose settings changed, switches USB, sets
// the debounce windows and paired lights, and asks the Manager to scan, at
// once also the ports that changed and had failed to open.
func (e *Engine) applyDevices(old, now Devices) {
	for _, p := range e.extra {
		if proto := now.Protocol(p); proto != "" && proto != protoBH1 {
			e.log.Warn("--serial port is configured with another protocol: not opened as BH1", "port", p, "protocol", proto)
		}
	}
	paths := e.bh1Ports(now)
	for _, s := range e.drv.bh1 {
		s.SetPorts(paths)
	}
	for _, s := range e.drv.firmata {
		if err := s.SetPorts(now.Firmata); err != nil { // validated on import: a bug
			e.log.Error("firmata driver refused the devices settings", "err", err)
		}
	}
	for _, s := range e.drv.lines {
		if err := s.SetPorts(now.Lines); err != nil {
			e.log.Error("lines driver refused the devices settings", "err", err)
		}
	}
	was, is := portSettings(old, e.bh1Ports(old)), portSettings(now, paths)
	var changed []string // ports whose settings changed, added again, or removed
	for port, s := range is {
		if was[port] != s {
			changed = append(changed, port)
		}
	}
	for port := range was {
		if _, ok := is[port]; !ok {
			changed = append(changed, port)
		}
	}
	for proto, gates := range e.drv.byProto {
		for _, g := range gates {
			g.closeEach(func(key string) error {
				before, after := was[key], is[key]
				switch {
				case !strings.HasPrefix(after, proto):
					return errRemoved
				case before != after:
					return errReopen
				}
				return nil
			})
		}
	}
	for _, g := range e.drv.gates {
		if g.Name() != usbDriverName {
			continue
		}
		if now.USBEnabled() {
			g.setOff(nil)
		} else {
			g.setOff(errUSBOff)
		}
	}
	e.applyButtonSettings(now)
	// A port that failed to open may open with its new settings: it is
	// tried at once, not after its back-off (up to 30 s).
	e.manager.Retry(changed...)
}

// portSettings returns each configured port's protocol and settings as one
// string (the protocol first), to tell which ports changed.
func portSettings(d Devices, bh1 []string) map[string]string {
	m := map[string]string{}
	for _, p := range bh1 {
		m[p] = protoBH1
	}
	for _, f := range d.Firmata {
		b, _ := json.Marshal(f)
		m[f.Port] = protoFirmata + string(b)
	}
	for _, l := range d.Lines {
		b, _ := json.Marshal(l)
		m[l.Port] = protoLines + string(b)
	}
	return m
}

// applyButtonSettings sets what the devices section says of buttons: the
// debounce windows, and the paired lights (indexed here, once, for the
// press path).
func (e *Engine) applyButtonSettings(d Devices) {
	lights := map[buttonKey][]Pair{}
	for _, p := range d.Pairs {
		k := buttonKey{p.ButtonDevice, p.Button}
		lights[k] = append(lights[k], p)
	}
	e.devMu.Lock()
	defer e.devMu.Unlock()
	e.debounce, e.lights = slices.Clone(d.Debounce), lights
	e.syncDebounce()
}

// attached records an attached device's name and, for a Firmata board, the
// debounce window of its port's settings (debounce_ms), which the gesture
// detector applies as the device's window unless devices.debounce sets one.
func (e *Engine) attached(info device.Info) {
	var board time.Duration
	if info.Driver == serial.FirmataDriverName {
		e.cfg.Lock()
		if i := slices.IndexFunc(e.config.devices.Firmata, func(f serial.FirmataOptions) bool { return f.Port == info.Path }); i >= 0 {
			board = time.Duration(e.config.devices.Firmata[i].DebounceMS) * time.Millisecond
		}
		e.cfg.Unlock()
	}
	e.devMu.Lock()
	defer e.devMu.Unlock()
	e.names[info.ID] = info.Name()
	if board > 0 {
		e.boards[info.ID] = board
	} else {
		delete(e.boards, info.ID)
	}
	e.syncDebounce()
}

// syncDebounce sets the debounce windows on the running gesture detector
// and removes those no longer wanted: each Firmata board's window as its
// device's, overridden by devices.debounce. e.devMu is held.
func (e *Engine) syncDebounce() {
	if e.gestures == nil {
		return
	}
	want := map[buttonKey]time.Duration{}
	for id, w := range e.boards {
		want[buttonKey{id, 0}] = w
	}
	for _, d := range e.debounce {
		w := time.Duration(*d.MS) * time.Millisecond
		if w == 0 {
			w = -1 // off
		}
		want[buttonKey{d.Device, d.Button}] = w
	}
	for k := range e.debounced {
		if _, ok := want[k]; !ok {
			e.gestures.SetDebounce(k.device, k.button, 0)
		}
	}
	for k, w := range want {
		e.gestures.SetDebounce(k.device, k.button, w)
	}
	e.debounced = want
}

// setGestures tells syncDebounce which detector runs (nil: none).
func (e *Engine) setGestures(g *device.GestureDetector) {
	e.devMu.Lock()
	defer e.devMu.Unlock()
	e.gestures, e.debounced = g, nil
	e.syncDebounce()
}

// lightsFor returns the lights paired with a button.
func (e *Engine) lightsFor(deviceID string, button int) []Pair {
	e.devMu.Lock()
	defer e.devMu.Unlock()
	return e.lights[buttonKey{deviceID, button}]
}

// Devices lists the devices seen since Run started (connected first), and
// the configured ports where nothing was seen. A serial device whose port
// left the devices settings is listed no more once it has closed (a USB
// device is found by scanning, so it stays listed while it is plugged in).
func (e *Engine) Devices() []DeviceState {
	d := e.DeviceConfig()
	ports := e.ports(d)
	var out []DeviceState
	for _, st := range e.manager.States() {
		if proto, ok := e.drv.protoOf[st.Info.Driver]; ok && !st.Connected && ports[st.Info.Path] != proto {
			continue // removed from the settings, or its port now speaks another protocol
		}
		out = append(out, DeviceState{
			Info: st.Info, Connected: st.Connected, Error: errText(st.Err), Since: st.Since,
			Reconnects: max(st.Attaches-1, 0),
		})
	}
	return withConfigured(ports, out)
}

// ports returns the protocol of each serial port to open: the configured
// ones and those given with --serial (BH1).
func (e *Engine) ports(d Devices) map[string]string {
	m := map[string]string{}
	for _, p := range e.bh1Ports(d) {
		m[p] = protoBH1
	}
	for _, f := range d.Firmata {
		m[f.Port] = protoFirmata
	}
	for _, l := range d.Lines {
		m[l.Port] = protoLines
	}
	return m
}

// withConfigured sets each state's protocol from ports (see Engine.ports)
// and adds the ports no state is about, with why nothing is there.
func withConfigured(ports map[string]string, out []DeviceState) []DeviceState {
	for i := range out {
		if out[i].Driver != usbDriverName {
			out[i].Protocol = ports[out[i].Path]
		}
	}
	var missing []DeviceState
	for port, proto := range ports {
		if slices.ContainsFunc(out, func(s DeviceState) bool { return s.Path == port && s.Driver != usbDriverName }) {
			continue
		}
		s := DeviceState{Info: device.Info{Path: port, Driver: driverOf(proto)}, Protocol: proto}
		if _, err := os.Stat(port); errors.Is(err, fs.ErrNotExist) {
			s.Error = fmt.Sprintf("serial port %s not found: check that the device is plugged in and the path is right", port)
		} else {
			s.Error = "not opened yet"
		}
		missing = append(missing, s)
	}
	sort.Slice(missing, func(i, j int) bool { return missing[i].Path < missing[j].Path })
	return append(out, missing...)
}

// driverOf returns the name of the driver that opens a protocol's ports.
func driverOf(proto string) string {
	switch proto {
	case protoFirmata:
		return serial.FirmataDriverName
	case protoLines:
		return serial.LinesDriverName
	}
	return serial.DriverName
}

// Probe opens every device the drivers find now, once, to see what
// answers, and closes it again: what `buttonhook devices` shows when no
// Buttonhook is running. It must not be called while Run runs (the devices
// would be busy); it returns when ctx is done or every open has ended.
func (e *Engine) Probe(ctx context.Context) []DeviceState {
	var (
		mu  sync.Mutex
		out []DeviceState
		wg  sync.WaitGroup
	)
	for _, g := range e.drv.gates {
		cands, err := g.Scan(ctx)
		if err != nil {
			e.log.Warn("device scan failed", "driver", g.Name(), "err", err)
			continue
		}
		for _, c := range cands {
			wg.Add(1)
			go func() { // ends when the open ends (bounded by ctx)
				defer wg.Done()
				s := DeviceState{Info: device.Info{Path: c.Key, Driver: g.Name()}, Since: time.Now()}
				dev, err := g.Open(ctx, c)
				if err != nil {
					s.Error = err.Error()
				} else {
					s.Info, s.Connected = dev.Info(), true
					_ = dev.Close()
				}
				mu.Lock()
				out = append(out, s)
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Connected != out[j].Connected {
			return out[i].Connected
		}
		return out[i].ID+out[i].Path < out[j].ID+out[j].Path
	})
	return withConfigured(e.ports(e.DeviceConfig()), out)
}

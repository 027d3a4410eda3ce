package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/buttonhook/buttonhook/app/engine"
	"github.com/buttonhook/buttonhook/device"
	"github.com/buttonhook/buttonhook/device/serial"
	"github.com/buttonhook/buttonhook/device/usb"
)

// probeTimeout bounds how long `buttonhook devices` waits for the devices
// it opens when no instance runs (a Firmata board takes up to 4 s).
const probeTimeout = 6 * time.Second

// drivers returns the drivers main supplies, or the BH1 driver alone when
// it supplies none (tests that run Main in process).
func (env Env) drivers(logger *slog.Logger) []device.Driver {
	if env.Drivers != nil {
		if ds := env.Drivers(logger); len(ds) > 0 {
			return ds
		}
	}
	return []device.Driver{serial.NewDriver(logger)}
}

// closeDrivers closes the drivers that hold something open (USB's libusb
// context), after the Manager that ran them has stopped.
func closeDrivers(logger *slog.Logger, drivers []device.Driver) {
	for _, d := range drivers {
		if c, ok := d.(io.Closer); ok {
			if err := c.Close(); err != nil {
				logger.Warn("closing a device driver failed", "driver", d.Name(), "err", err)
			}
		}
	}
}

// Devices opens each device the drivers find (the configured ports, the
// supported USB devices) once to see what answers.
func (l local) Devices() ([]engine.DeviceState, error) {
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	return l.e.Probe(ctx), nil
}

// importedPorts counts the ports a config file configures.
func importedPorts(c engine.Config) int {
	n := len(c.SerialPorts)
	if d := c.Devices; d != nil {
		n += len(d.BH1) + len(d.Firmata) + len(d.Lines)
	}
	return n
}

// devicesReport is what `buttonhook devices --json` prints.
type devicesReport struct {
	// Probed is true when no Buttonhook runs on the data directory: each
	// device was opened once to see what answers, so Since is when it was
	// opened and Reconnects is 0.
	Probed     bool                 `json:"probed"`
	Devices    []engine.DeviceState `json:"devices"`
	USBEnabled bool                 `json:"usb_enabled"`
	Debounce   []engine.Debounce    `json:"debounce"`
	Pairs      []engine.Pair        `json:"pairs"`
	Ports      []serial.PortInfo    `json:"serial_ports"`
	USB        []usb.Found          `json:"usb"`
	// USBError says why USB devices could not be listed ("" when they
	// were): no USB support in this build, or libusb failed.
	USBError string `json:"usb_error,omitempty"`

	usbUnsupported bool // a build without USB support
}

func cmdDevices(g Globals, logger *slog.Logger, args []string, env Env) error {
	fs := subFlags("devices", env)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseSub(fs, args); err != nil {
		return err
	}
	a, done, err := connectDrivers(g, logger, env.drivers(logger))
	if err != nil {
		return err
	}
	defer done()
	ds, err := a.Devices()
	if err != nil {
		return err
	}
	_, probed := a.(local)
	rep := devicesReport{Probed: probed, Devices: nonNil(ds), USBEnabled: true}
	cfg, err := a.Export()
	if err != nil {
		fmt.Fprintf(env.Stderr, "cannot read the devices settings: %v\n", err)
	}
	if d := cfg.Devices; d != nil {
		rep.Debounce, rep.Pairs = d.Debounce, d.Pairs
		rep.USBEnabled = d.USBEnabled()
	}
	rep.Ports, err = serial.ListPorts()
	if err != nil {
		fmt.Fprintf(env.Stderr, "cannot list serial ports: %v\n", err)
	}
	rep.USB, err = usb.List(context.Background())
	if err != nil {
		rep.USBError, rep.usbUnsupported = err.Error(), errors.Is(err, usb.ErrUnsupported)
		if !rep.usbUnsupported {
			fmt.Fprintf(env.Stderr, "cannot list USB devices: %v\n", err)
		}
	}
	rep.Debounce, rep.Pairs, rep.Ports, rep.USB = nonNil(rep.Debounce), nonNil(rep.Pairs), nonNil(rep.Ports), nonNil(rep.USB)
	if *asJSON {
		return printJSON(env.Stdout, rep)
	}
	devs := engine.Devices{}
	if cfg.Devices != nil {
		devs = *cfg.Devices
	}
	return printDevices(env.Stdout, rep, devs)
}

// printDevices prints the devices as a table (the state, with why a
// device is not connected, last, so that a long reason widens no column),
// then the debounce settings, the pairs, the serial ports and the
// supported USB devices found, with how to configure them.
func printDevices(w io.Writer, rep devicesReport, cfg engine.Devices) error {
	if rep.Probed {
		fmt.Fprintln(w, "No Buttonhook runs on this data directory: each device was opened once to see what answers.")
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DEVICE\tSINCE\tRECONNECTS\tPATH\tPROTOCOL\tMODEL\tFIRMWARE\tBUTTONS\tLEDS\tSTATE")
	for _, d := range rep.Devices {
		since, reconnects := "-", "-"
		if !d.Since.IsZero() && !rep.Probed {
			since = d.Since.Local().Format(time.DateTime)
		}
		if !rep.Probed {
			reconnects = strconv.Itoa(d.Reconnects)
		}
		buttons := "-"
		if d.ID != "" { // identified: it said how many
			buttons = strconv.Itoa(d.Buttons)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", orDash(d.ID), since, reconnects, orDash(d.Path),
			orDash(cmp.Or(d.Protocol, d.Driver)), orDash(d.Model), orDash(d.Firmware), buttons, orDash(colors(d.Colors)), state(d))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(rep.Devices) == 0 {
		fmt.Fprintln(w, "(no devices: add one in the window's Devices dialog or in the devices section (docs/config.md), pass --serial PATH, or plug in a supported USB device)")
	}
	boards := slices.DeleteFunc(slices.Clone(cfg.Firmata), func(f serial.FirmataOptions) bool { return f.DebounceMS == 0 })
	if len(rep.Debounce)+len(boards) > 0 {
		fmt.Fprintln(w, "\nDebounce (the host's window is 25 ms unless set here):")
		for _, f := range boards {
			fmt.Fprintf(w, "  the Firmata board at %s: %d ms (its debounce_ms; an entry for the board below wins)\n", f.Port, f.DebounceMS)
		}
		for _, d := range rep.Debounce {
			which := "every button"
			if d.Button > 0 {
				which = fmt.Sprintf("button %d", d.Button)
			}
			window := "off"
			if *d.MS > 0 {
				window = fmt.Sprintf("%d ms", *d.MS)
			}
			fmt.Fprintf(w, "  %s %s: %s\n", d.Device, which, window)
		}
	}
	if len(rep.Pairs) > 0 {
		fmt.Fprintln(w, "\nPaired lights:")
		for _, p := range rep.Pairs {
			fmt.Fprintf(w, "  %s button %d -> %s LED %d%s\n", p.ButtonDevice, p.Button, p.LightDevice, p.LightButton, lightState(rep.Devices, p.LightDevice))
		}
	}
	if len(rep.Ports) > 0 {
		fmt.Fprintln(w, "\nSerial ports on this computer (configure one under devices.bh1, devices.firmata or devices.lines):")
		for _, p := range rep.Ports {
			extra := ""
			if p.USB {
				extra = strings.TrimRight(fmt.Sprintf("  USB %s:%s  serial %s  %s", p.VID, p.PID, orDash(p.SerialNumber), p.Product), " ")
			}
			if proto := cfg.Protocol(p.Path); proto != "" {
				extra += "  (configured: " + proto + ")"
			}
			fmt.Fprintf(w, "  %s%s\n", p.Path, extra)
		}
	}
	switch {
	case rep.usbUnsupported:
		fmt.Fprintln(w, "\nUSB devices: not supported by this build (built without libusb, -tags nousb); serial devices work.")
	case len(rep.USB) > 0:
		how := "opened unless devices.usb.enabled is false; pair a light with devices.pairs"
		if !rep.USBEnabled {
			how = "not opened: USB is turned off (devices.usb.enabled is false)"
		}
		fmt.Fprintf(w, "\nSupported USB devices on this computer (%s):\n", how)
		for _, f := range rep.USB {
			kind := fmt.Sprintf("%d button(s)", f.Buttons)
			if f.Buttons == 0 {
				kind = "light"
			}
			fmt.Fprintf(w, "  %s  %s:%s  %s  bus %d address %d\n", f.Model, f.VID, f.PID, kind, f.Bus, f.Address)
		}
	case !rep.USBEnabled:
		fmt.Fprintln(w, "\nUSB devices: turned off (devices.usb.enabled is false).")
	}
	return nil
}

// state is a device's STATE: "connected", or "not connected: " and why.
func state(d engine.DeviceState) string {
	if d.Connected {
		return "connected"
	}
	return "not connected: " + orDash(d.Error)
}

func colors(cs []device.Color) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = string(c)
	}
	return strings.Join(s, ",")
}

// lightState says, after a pair, when its light is not connected.
func lightState(ds []engine.DeviceState, id string) string {
	for _, d := range ds {
		if d.ID == id && d.Connected {
			return ""
		}
	}
	return "  (light not connected)"
}

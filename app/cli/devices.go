package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
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
	Devices []engine.DeviceState `json:"devices"`
	Pairs   []engine.Pair        `json:"pairs"`
	Ports   []serial.PortInfo    `json:"serial_ports"`
	USB     []usb.Found          `json:"usb"`
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
	var pairs []engine.Pair
	if cfg, err := a.Export(); err == nil && cfg.Devices != nil {
		pairs = cfg.Devices.Pairs
	}
	ports, perr := serial.ListPorts()
	if perr != nil {
		fmt.Fprintf(env.Stderr, "cannot list serial ports: %v\n", perr)
	}
	found, uerr := usb.List(context.Background())
	if uerr != nil && !errors.Is(uerr, usb.ErrUnsupported) {
		fmt.Fprintf(env.Stderr, "cannot list USB devices: %v\n", uerr)
	}
	if *asJSON {
		return printJSON(env.Stdout, devicesReport{nonNil(ds), nonNil(pairs), nonNil(ports), nonNil(found)})
	}
	return printDevices(env.Stdout, ds, pairs, ports, found)
}

// printDevices prints the devices as a table, then the pairs, the serial
// ports and the supported USB devices found, with how to configure them.
func printDevices(w io.Writer, ds []engine.DeviceState, pairs []engine.Pair, ports []serial.PortInfo, found []usb.Found) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DEVICE\tSTATE\tSINCE\tRECONNECTS\tPATH\tPROTOCOL\tMODEL\tFIRMWARE\tBUTTONS\tLEDS")
	for _, d := range ds {
		state := "connected"
		if !d.Connected {
			state = "not connected: " + orDash(d.Error)
		}
		since := "-"
		if !d.Since.IsZero() {
			since = d.Since.Local().Format(time.DateTime)
		}
		var leds []string
		for _, c := range d.Colors {
			leds = append(leds, string(c))
		}
		proto := d.Protocol
		if proto == "" {
			proto = d.Driver
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%d\t%s\n", orDash(d.ID), state, since, d.Reconnects, orDash(d.Path),
			orDash(proto), orDash(d.Model), orDash(d.Firmware), d.Buttons, orDash(strings.Join(leds, ",")))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(ds) == 0 {
		fmt.Fprintln(w, "(no devices: configure a port in the devices section (docs/config.md), pass --serial PATH, or plug in a supported USB device)")
	}
	if len(pairs) > 0 {
		fmt.Fprintln(w, "\nPaired lights:")
		for _, p := range pairs {
			fmt.Fprintf(w, "  %s button %d -> %s LED %d\n", p.ButtonDevice, p.Button, p.LightDevice, p.LightButton)
		}
	}
	if len(ports) > 0 {
		fmt.Fprintln(w, "\nSerial ports on this computer (configure one under devices.bh1, devices.firmata or devices.lines):")
		for _, p := range ports {
			extra := ""
			if p.USB {
				extra = strings.TrimRight(fmt.Sprintf("  USB %s:%s  serial %s  %s", p.VID, p.PID, orDash(p.SerialNumber), p.Product), " ")
			}
			fmt.Fprintf(w, "  %s%s\n", p.Path, extra)
		}
	}
	if len(found) > 0 {
		fmt.Fprintln(w, "\nSupported USB devices on this computer (opened unless devices.usb.enabled is false; pair a light with devices.pairs):")
		for _, f := range found {
			kind := fmt.Sprintf("%d button(s)", f.Buttons)
			if f.Buttons == 0 {
				kind = "light"
			}
			fmt.Fprintf(w, "  %s  %s:%s  %s  bus %d address %d\n", f.Model, f.VID, f.PID, kind, f.Bus, f.Address)
		}
	}
	return nil
}

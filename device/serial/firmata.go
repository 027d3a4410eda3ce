package serial

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/buttonhook/buttonhook/device"
	"github.com/buttonhook/buttonhook/device/serial/firmata"
)

// FirmataDriverName is the Firmata driver's name in Candidates and Infos.
const FirmataDriverName = "firmata"

// FirmataBaudRate is StandardFirmata's line speed.
const FirmataBaudRate = 57600

// FirmataOpenTimeout is how long Open waits for a Firmata version report.
// Opening the port resets an Arduino Uno, whose bootloader keeps it silent
// for up to about 2 s; StandardFirmata then announces itself.
const FirmataOpenTimeout = 4 * time.Second

// FirmataOptions configure one board running StandardFirmata (or any
// Firmata 2.x firmware) as a button device. They are JSON so that they can
// live in the app's configuration.
type FirmataOptions struct {
	// Port is the serial port path, like /dev/ttyACM0 or COM3.
	Port string `json:"port"`
	// Baud is the line speed; 0 means 57600 (StandardFirmata's).
	Baud int `json:"baud,omitempty"`
	// Buttons are the board's buttons, numbered from 1 in this order.
	Buttons []FirmataButton `json:"buttons"`
	// DebounceMS is the board's debounce window, 1..1000 ms; 0 means the
	// host's default (device.DefaultGestureTiming.Debounce). StandardFirmata
	// does not debounce, nor does the driver: it reports every pin change,
	// and the host's gesture detector debounces, as for every device.
	// The engine gives this window to the gesture detector when the board
	// attaches, unless a devices.debounce entry names the device.
	DebounceMS int `json:"debounce_ms,omitempty"`
}

// FirmataButton is one button: a push button between Pin and ground, read
// with the board's internal pull-up (active low: a low pin is pressed).
type FirmataButton struct {
	Pin int `json:"pin"`
	// LEDs are the pins of the button's LED: one pin with no colour for
	// a single-colour LED (every colour shows as on), or one pin per
	// colour of a multi-colour LED (yellow is red and green, white is all).
	LEDs []FirmataLED `json:"leds,omitempty"`
}

// FirmataLED is one LED pin.
type FirmataLED struct {
	Pin int `json:"pin"`
	// Color is what the pin lights: red, green, blue, yellow or white;
	// empty for a single-colour LED.
	Color device.Color `json:"color,omitempty"`
	// ActiveLow is for an LED wired from the pin to the supply (a common
	// anode RGB LED): the pin is driven low to light it.
	ActiveLow bool `json:"active_low,omitempty"`
}

// Validate checks the options. Each problem is one error, joined, naming
// the field ("buttons[0].leds[1].pin: ...").
func (o FirmataOptions) Validate() error {
	var errs []error
	add := func(path, format string, args ...any) { errs = append(errs, fieldError(path, format, args...)) }
	if o.Port == "" {
		add("port", "is empty: set the board's serial port, like /dev/ttyACM0 or COM3")
	}
	if o.Baud < 0 {
		add("baud", "%d is negative: leave it out for 57600", o.Baud)
	}
	if o.DebounceMS < 0 || o.DebounceMS > 1000 {
		add("debounce_ms", "%d is out of range 0..1000 (0 means the host's default)", o.DebounceMS)
	}
	switch n := len(o.Buttons); {
	case n == 0:
		add("buttons", "none configured: add at least one button pin")
	case n > MaxButtons:
		add("buttons", "%d configured; at most %d", n, MaxButtons)
	}
	used := map[int]string{}
	pin := func(path string, p int) {
		if p < 0 || p > firmata.MaxPin {
			add(path, "%d is out of range 0..%d", p, firmata.MaxPin)
			return
		}
		if other, dup := used[p]; dup {
			add(path, "pin %d is already used by %s: give each button and LED its own pin", p, other)
			return
		}
		used[p] = path
	}
	for i, b := range o.Buttons {
		path := fmt.Sprintf("buttons[%d]", i)
		pin(path+".pin", b.Pin)
		for j, l := range b.LEDs {
			lpath := fmt.Sprintf("%s.leds[%d]", path, j)
			pin(lpath+".pin", l.Pin)
			switch l.Color {
			case "", device.Red, device.Green, device.Blue, device.Yellow, device.White:
			default:
				add(lpath+".color", "unknown colour %q: want red, green, blue, yellow, white, or none for a single-colour LED", l.Color)
			}
		}
	}
	return errors.Join(errs...)
}

func (o FirmataOptions) baud() int {
	if o.Baud == 0 {
		return FirmataBaudRate
	}
	return o.Baud
}

func (o FirmataOptions) clone() FirmataOptions {
	o.Buttons = slices.Clone(o.Buttons)
	for i := range o.Buttons {
		o.Buttons[i].LEDs = slices.Clone(o.Buttons[i].LEDs)
	}
	return o
}

// allColors are the colours Buttonhook names, in the order Info lists them.
var allColors = []device.Color{device.Red, device.Green, device.Yellow, device.Blue, device.White}

// lights reports whether an LED pin of colour pin is lit to show want: a
// single-colour pin shows every colour; yellow is red and green; white is
// red, green and blue; an empty want is white.
func lights(pin, want device.Color) bool {
	if pin == "" || pin == want {
		return true
	}
	switch want {
	case device.Yellow:
		return pin == device.Red || pin == device.Green
	case device.White, "":
		return pin == device.Red || pin == device.Green || pin == device.Blue
	}
	return false
}

// colors lists the colours some LED of the options can show.
func (o FirmataOptions) colors() []device.Color {
	cs := []device.Color{}
	for _, c := range allColors {
	found:
		for _, b := range o.Buttons {
			for _, l := range b.LEDs {
				if lights(l.Color, c) {
					cs = append(cs, c)
					break found
				}
			}
		}
	}
	return cs
}

package usb

import (
	"fmt"
	"time"

	"github.com/buttonhook/buttonhook/device"
)

// kind says which protocol a supported model speaks (Model.kind).
type kind int

const (
	kindDelcom kind = iota + 1
	kindDreamCheeky
	kindBlink1
	kindLuxafor
)

// write is one message to a device: a control transfer, or (when intr is
// set) a report on its interrupt OUT endpoint.
type write struct {
	req  request
	intr []byte
}

func (w write) String() string {
	if w.intr != nil {
		return fmt.Sprintf("interrupt OUT % x", w.intr)
	}
	return "control " + w.req.String()
}

// ledPlan is how a device shows one LED state: what to send at once, and
// what the driver sends later where the hardware cannot time it itself.
type ledPlan struct {
	now []write
	// then is sent once, after (the end of a flash).
	then  []write
	after time.Duration
	// every alternates between its two halves, one each half period,
	// starting with every[0] half a period after now (an emulated pulse).
	every [2][]write
	half  time.Duration
}

// minHalfPeriod bounds how often the driver writes to emulate a pulse.
const minHalfPeriod = 50 * time.Millisecond

// planLED returns how a device of kind k shows led.
//
//   - Delcom: steady and off are port writes; flash and pulse use the
//     indicator's own flash clock (see delcomLED), and the driver ends a
//     flash after its Duration.
//   - blink(1): steady and off set the colour now; a flash sets it and the
//     driver sets black after Duration; a pulse is emulated by the driver,
//     which fades to the colour and back to black, each in half the period
//     (the blink(1) fades smoothly).
//   - Luxafor Flag: like the blink(1), but its pulse is a blink of static
//     colours (the Flag's fade speed has no documented unit).
func planLED(k kind, led device.LED) (ledPlan, error) {
	if led.Mode < device.LEDOff || led.Mode > device.LEDPulse {
		return ledPlan{}, fmt.Errorf("unknown LED mode %v", led.Mode)
	}
	if (led.Mode == device.LEDFlash || led.Mode == device.LEDPulse) && led.Duration <= 0 {
		return ledPlan{}, fmt.Errorf("LED %v needs a positive duration, got %v", led.Mode, led.Duration)
	}
	switch k {
	case kindDelcom:
		reqs, err := delcomLED(led)
		if err != nil {
			return ledPlan{}, err
		}
		p := ledPlan{now: controls(reqs)}
		if led.Mode == device.LEDFlash {
			p.then, p.after = controls(delcomOff()), led.Duration
		}
		return p, nil
	case kindBlink1, kindLuxafor:
		r, g, b, ok := rgb(led.Color)
		if !ok && led.Mode != device.LEDOff {
			return ledPlan{}, fmt.Errorf("unknown colour %q: use red, green, yellow, blue or white", led.Color)
		}
		color := func(r, g, b uint8, fade time.Duration) write {
			if k == kindLuxafor {
				return write{intr: luxaforColor(r, g, b)}
			}
			return write{req: blink1Fade(r, g, b, fade)}
		}
		switch led.Mode {
		case device.LEDOff:
			return ledPlan{now: []write{color(0, 0, 0, 0)}}, nil
		case device.LEDOn:
			return ledPlan{now: []write{color(r, g, b, 0)}}, nil
		case device.LEDFlash:
			return ledPlan{now: []write{color(r, g, b, 0)}, then: []write{color(0, 0, 0, 0)}, after: led.Duration}, nil
		}
		half := max(led.Duration/2, minHalfPeriod)
		fade := half
		if k == kindLuxafor {
			fade = 0
		}
		return ledPlan{
			now:   []write{color(r, g, b, fade)},
			every: [2][]write{{color(0, 0, 0, fade)}, {color(r, g, b, fade)}},
			half:  half,
		}, nil
	}
	return ledPlan{}, fmt.Errorf("this device has no LEDs")
}

func controls(reqs []request) []write {
	ws := make([]write, len(reqs))
	for i, r := range reqs {
		ws[i] = write{req: r}
	}
	return ws
}

# Buttonhook reference firmware for the Raspberry Pi Pico (MicroPython).
#
# Speaks BH1, the Buttonhook line protocol (docs/protocol.md), over the
# Pico's USB serial port (the REPL's port, /dev/ttyACM0 on Linux):
#   - says who it is:  HELLO BH1 model=... fw=... sn=... buttons=N leds=...
#                      at start and in answer to "HELLO?"
#   - reports buttons: "D n" when button n goes down, "U n" when it comes up,
#                      debounced here (20 ms of a steady level)
#   - lights LEDs:     LED n OFF | ON colour | FLASH colour ms | PULSE colour ms
#   - answers PING:    "PING token" -> "PONG token"
# A line that does not follow BH1 is counted and ignored; a well-formed
# command this board cannot do (an LED it does not have) is answered with
# "ERR text". The serial number is the chip's unique id.
#
# Copy this file to the Pico as main.py; put your pins in bh_config.py beside
# it (see README.md) so that a new main.py does not lose them.
# Wiring, flashing and tests: device/firmware/README.md.

import select
import sys
import time

import machine

# ---------------------------------------------------------------------------
# Configuration. A bh_config.py may set any of these names.

MODEL = "pico-button"  # model name, no spaces
FW = "1.0.0"  # firmware version, no spaces
SERIAL = None  # None: the chip's unique id; or a string without spaces

# LED_TYPE: "bicolour" (a red and a green die; yellow is both on), "rgb" or
# "none". Any Pico GPIO can do PWM, so PULSE always fades.
LED_TYPE = "rgb"
LED_ACTIVE_LOW = False  # True for a common-anode LED

# One row per button: its GPIO (wired to GND, internal pull-up) and its
# LED's GPIOs (red, green, blue), None where there is none.
BUTTONS = [
    # button  red  green  blue
    (15, 16, 17, 18),
]

try:
    from bh_config import *  # noqa: F401,F403  (your board's pins)
except ImportError:
    pass
if LED_TYPE not in ("rgb", "bicolour", "none"):
    raise ValueError("LED_TYPE %r: want \"rgb\", \"bicolour\" or \"none\"" % LED_TYPE)

# ---------------------------------------------------------------------------
# Protocol constants (docs/protocol.md).

MAX_LINE = 128  # bytes in a line, including its "\n"
MAX_BUTTON = 64
MAX_LED_MS = 60000
DEBOUNCE_MS = 20

# What each BH1 colour looks like on an RGB and on a bi-colour LED. A
# bi-colour LED shows the nearest it has: blue as green, white as yellow.
COLOURS = {
    # name      RGB LED          bi-colour (red, green)
    b"red": ((255, 0, 0), (255, 0)),
    b"green": ((0, 255, 0), (0, 255)),
    b"yellow": ((255, 150, 0), (255, 255)),
    b"blue": ((0, 0, 255), (0, 255)),
    b"white": ((255, 255, 255), (255, 255)),
}

MODE_OFF, MODE_ON, MODE_FLASH, MODE_PULSE = 0, 1, 2, 3
MODES = {b"OFF": (MODE_OFF, 3), b"ON": (MODE_ON, 4), b"FLASH": (MODE_FLASH, 5), b"PULSE": (MODE_PULSE, 5)}


# ---------------------------------------------------------------------------
# Serial: stdin and stdout are the USB serial port.

stdin = getattr(sys.stdin, "buffer", sys.stdin)
stdout = getattr(sys.stdout, "buffer", sys.stdout)


def send(line):
    stdout.write(line + b"\n")


def serial_number():
    if SERIAL:
        return SERIAL.encode()
    return "".join("%02X" % b for b in machine.unique_id()).encode()


def leds_word():
    if LED_TYPE == "rgb":
        return b"red,green,yellow,blue,white"
    if LED_TYPE == "bicolour":
        return b"red,green,yellow"
    return b"none"


HELLO = b"HELLO BH1 model=%s fw=%s sn=%s buttons=%d leds=%s" % (
    MODEL.encode(), FW.encode(), serial_number(), len(BUTTONS), leds_word())


# ---------------------------------------------------------------------------
# Buttons.

class Button:
    """A button on a GPIO to GND, debounced: a level counts once it has held
    for DEBOUNCE_MS."""

    def __init__(self, number, gpio):
        self.number = number
        self.pin = machine.Pin(gpio, machine.Pin.IN, machine.Pin.PULL_UP)
        self.down = False  # as last reported
        self.raw_down = False  # the level at the last look
        self.raw_since = time.ticks_ms()

    def poll(self, now):
        raw_down = self.pin.value() == 0
        if raw_down != self.raw_down:
            self.raw_down = raw_down  # it moved (or bounced): start timing again
            self.raw_since = now
        elif raw_down != self.down and time.ticks_diff(now, self.raw_since) >= DEBOUNCE_MS:
            self.down = raw_down
            send(b"%s %d" % (b"D" if raw_down else b"U", self.number))


# ---------------------------------------------------------------------------
# LEDs.

class Channel:
    """One colour of an LED on a PWM pin, written only when it changes."""

    def __init__(self, gpio):
        self.pwm = None
        self.level = 0
        if gpio is not None:
            self.pwm = machine.PWM(machine.Pin(gpio))
            self.pwm.freq(1000)
            self.pwm.duty_u16(65535 if LED_ACTIVE_LOW else 0)

    def set(self, level):  # level 0..255
        if self.pwm is None or level == self.level:
            return
        self.level = level
        duty = level * 257  # 255 -> 65535
        self.pwm.duty_u16(65535 - duty if LED_ACTIVE_LOW else duty)


class Led:
    def __init__(self, red, green, blue):
        self.channels = (Channel(red), Channel(green), Channel(blue))
        self.mode = MODE_OFF
        self.colour = (0, 0, 0)
        self.since = 0
        self.ms = 0
        self.fresh = False  # not shown yet

    def command(self, mode, colour, ms):
        rgb, bi = COLOURS.get(colour, ((0, 0, 0), (0, 0)))
        self.colour = rgb if LED_TYPE == "rgb" else (bi[0], bi[1], 0)
        self.mode, self.ms, self.since = mode, ms, time.ticks_ms()
        self.fresh = True

    def brightness(self, now):
        if self.mode == MODE_ON:
            return 255
        if self.mode == MODE_FLASH:
            # On for ms, and for one update at least, so that "FLASH red 1"
            # shows.
            if time.ticks_diff(now, self.since) < self.ms or self.fresh:
                return 255
            self.mode = MODE_OFF  # the flash is over
        elif self.mode == MODE_PULSE:
            # A triangle from full down to dark and back, once per period,
            # squared so that the fade looks even. It starts bright, so a
            # press shows at once.
            t = time.ticks_diff(now, self.since) % self.ms * 510 // self.ms
            level = 255 - t if t < 255 else t - 255
            return level * level // 255
        return 0

    def update(self, now):
        level = self.brightness(now)
        self.fresh = False
        for ch, c in zip(self.channels, self.colour):
            ch.set(c * level // 255)


# ---------------------------------------------------------------------------
# Host commands.

class Board:
    def __init__(self):
        self.buttons = [Button(i + 1, row[0]) for i, row in enumerate(BUTTONS)]
        self.leds = [Led(*row[1:4]) for row in BUTTONS] if LED_TYPE != "none" else []
        self.line = bytearray()
        self.too_long = False
        self.malformed = 0  # counted and ignored, as BH1 asks

    def take(self, b):
        """Takes one byte from the host; acts on each whole line. A line
        longer than MAX_LINE is dropped up to its "\\n" and counted."""
        if b == 0x0A:
            if self.too_long:
                self.malformed += 1
            else:
                self.handle(bytes(self.line))
            self.line = bytearray()
            self.too_long = False
        elif len(self.line) < MAX_LINE - 1:
            self.line.append(b)
        else:
            self.too_long = True

    def handle(self, line):
        if line.endswith(b"\r"):
            line = line[:-1]  # Serial.println's "\r\n"
        for b in line:
            if b < 0x20 or b > 0x7E:
                self.malformed += 1  # control or non-ASCII byte
                return
        f = [w for w in line.split(b" ") if w]
        kw = f[0].upper() if f else b""
        if kw == b"HELLO?" and len(f) == 1:
            send(HELLO)
        elif kw == b"PING" and len(f) <= 2:
            send(b"PONG " + f[1] if len(f) == 2 else b"PONG")
        elif kw == b"LED" and self.led(f):
            pass
        else:
            self.malformed += 1

    def led(self, f):
        """Acts on LED n OFF|ON c|FLASH c ms|PULSE c ms; False if malformed."""
        if len(f) < 3:
            return False
        button = number(f[1], 1, MAX_BUTTON)
        mode, want = MODES.get(f[2].upper(), (None, 0))
        if button is None or len(f) != want:
            return False
        colour, ms = b"", 0
        if want >= 4:
            colour = f[3].lower()
            if colour not in COLOURS:
                return False
        if want == 5:
            ms = number(f[4], 1, MAX_LED_MS)
            if ms is None:
                return False
        # A well-formed command: do it, or say why not.
        if button > len(self.leds):
            send(b"ERR no LED %d" % button)
        else:
            self.leds[button - 1].command(mode, colour, ms)
        return True


def number(s, lo, hi):
    """A decimal number of 1 to 9 ASCII digits within lo..hi, else None."""
    if not 1 <= len(s) <= 9:
        return None
    n = 0
    for c in s:
        if c < 0x30 or c > 0x39:
            return None
        n = n * 10 + c - 0x30
    return n if lo <= n <= hi else None


# ---------------------------------------------------------------------------

def main():
    # Ctrl-C (0x03) on the port still stops the script, so that Thonny and
    # mpremote can take over; Buttonhook never sends it.
    board = Board()
    poll = select.poll()
    poll.register(sys.stdin, select.POLLIN)
    send(HELLO)  # BH1: HELLO at start (lost if no host has the port open yet)
    while True:
        now = time.ticks_ms()
        for b in board.buttons:
            b.poll(now)
        # Wait up to 1 ms for the host, then take what it has sent: at most
        # two lines' worth, so that buttons and LEDs keep their pace.
        timeout = 1
        for _ in range(2 * MAX_LINE):
            if not poll.poll(timeout):
                break
            timeout = 0
            c = stdin.read(1)
            if not c:
                time.sleep_ms(1)  # no host (end of input): wait for one
                break
            board.take(c[0] if isinstance(c, (bytes, bytearray)) else ord(c))
        for led in board.leds:
            led.update(now)


main()

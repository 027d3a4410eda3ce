"""A fake MicroPython `machine` module for running the Pico firmware under
CPython in Buttonhook's firmware tests (device/firmware/firmware_test.go).

It talks to the test over two file descriptors, as the Arduino host shim
does (device/firmware/arduino/hostshim/shim.cpp):
  fd 3 (in)   pin levels, lines "PIN <gpio> <0|1>"; when it closes, the
              process exits (the test is gone)
  fd 4 (out)  what the board did: "MODE <gpio> INPUT|OUTPUT|INPUT_PULLUP",
              "OUT <gpio> <0..255>" (an output's new level, only changes),
              "RX <line>" (a line the firmware read; see run.py)
$BH_UNIQUE_ID sets unique_id() (hex).
"""

import os

_CTL_IN, _CTL_OUT = 3, 4


def _fd_open(fd):
    try:
        os.fstat(fd)
        return True
    except OSError:
        return False


_ctl_in = _fd_open(_CTL_IN)
_ctl_out = _fd_open(_CTL_OUT)
if _ctl_in:
    os.set_blocking(_CTL_IN, False)

_levels = {}  # input levels the test set; 1 (pulled up) until then
_outs = {}  # last reported output levels
_partial = b""


def report(line):
    """Writes one line to the test (fd 4)."""
    if not _ctl_out:
        return
    data = line.encode() + b"\n"
    while data:
        data = data[os.write(_CTL_OUT, data):]


def _read_control():
    global _partial
    if not _ctl_in:
        return
    while True:
        try:
            data = os.read(_CTL_IN, 4096)
        except BlockingIOError:
            return
        if not data:
            os._exit(0)  # the test is gone
        _partial += data
        *lines, _partial = _partial.split(b"\n")
        for line in lines:
            f = line.split()
            if len(f) == 3 and f[0] == b"PIN":
                _levels[int(f[1])] = 1 if int(f[2]) else 0


def _out(gpio, level):
    if _outs.get(gpio) != level:
        _outs[gpio] = level
        report("OUT %d %d" % (gpio, level))


class Pin:
    IN, OUT = 0, 1
    PULL_UP, PULL_DOWN = 1, 2

    def __init__(self, id, mode=-1, pull=-1, value=None):
        self.id = id
        self.mode = mode
        self._value = 0
        if mode == Pin.IN:
            report("MODE %d %s" % (id, "INPUT_PULLUP" if pull == Pin.PULL_UP else "INPUT"))
        elif mode == Pin.OUT:
            report("MODE %d OUTPUT" % id)
        if value is not None:
            self.value(value)

    def value(self, v=None):
        if v is None:
            if self.mode == Pin.OUT:
                return self._value
            _read_control()
            return _levels.get(self.id, 1)
        self._value = 1 if v else 0
        _out(self.id, 255 if v else 0)

    __call__ = value

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)


class PWM:
    def __init__(self, pin, freq=None, duty_u16=None):
        self.pin = pin
        self._freq = 0
        report("MODE %d OUTPUT" % pin.id)
        if freq is not None:
            self.freq(freq)
        if duty_u16 is not None:
            self.duty_u16(duty_u16)

    def freq(self, f=None):
        if f is None:
            return self._freq
        self._freq = f

    def duty_u16(self, d):
        if not 0 <= d <= 65535:
            raise ValueError("duty_u16 %d out of range 0..65535" % d)
        _out(self.pin.id, d >> 8)

    def deinit(self):
        pass


def unique_id():
    return bytes.fromhex(os.environ.get("BH_UNIQUE_ID", "E6614103E7452D2F"))


def freq():
    return 125_000_000

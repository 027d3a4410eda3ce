"""Runs the Pico firmware (a MicroPython main.py) under CPython 3, for
Buttonhook's firmware tests:

    python3 -B run.py MAIN_PY [CONFIG_DIR]

stdin and stdout are the board's USB serial port, unbuffered; the fake
`machine` module beside this file stands in for the pins. CONFIG_DIR, if
given, is searched first for bh_config.py. $BH_TICKS_START sets where
time.ticks_ms() starts (it wraps at 2**30, as on the Pico).
"""

import os
import runpy
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
if len(sys.argv) > 2:
    sys.path.insert(0, sys.argv[2])

import machine  # noqa: E402  (after the path is set)

# MicroPython's time functions, on CPython's monotonic clock.
_PERIOD = 1 << 30
_start = time.monotonic_ns() // 1_000_000 - int(os.environ.get("BH_TICKS_START", "0"))


def ticks_ms():
    return (time.monotonic_ns() // 1_000_000 - _start) & (_PERIOD - 1)


def ticks_add(t, delta):
    return (t + delta) & (_PERIOD - 1)


def ticks_diff(a, b):
    return ((a - b + _PERIOD // 2) & (_PERIOD - 1)) - _PERIOD // 2


time.ticks_ms = ticks_ms
time.ticks_add = ticks_add
time.ticks_diff = ticks_diff
time.sleep_ms = lambda ms: time.sleep(ms / 1000)


class _RawIn:
    """The serial port's input, one read(2) per call, logging each line the
    firmware reads as "RX <line>" for the test."""

    def __init__(self):
        self.line = bytearray()

    def fileno(self):
        return 0

    def read(self, n):
        try:
            data = os.read(0, n)
        except OSError:
            return b""  # no host has the port open
        for b in data:
            if b == 0x0A:
                machine.report("RX " + "".join(
                    chr(c) if 0x20 <= c <= 0x7E and c != 0x5C else "\\x%02X" % c for c in self.line[:1024]))
                self.line = bytearray()
            else:
                self.line.append(b)
        return data


class _RawOut:
    def fileno(self):
        return 1

    def write(self, data):
        while data:
            try:
                data = data[os.write(1, data):]
            except OSError:
                return  # the host is gone: dropped, as on USB
        return None

    def flush(self):
        pass


class _Stdio:
    def __init__(self, buffer):
        self.buffer = buffer

    def fileno(self):
        return self.buffer.fileno()


os.set_blocking(0, True)
sys.stdin = _Stdio(_RawIn())
sys.stdout = _Stdio(_RawOut())
runpy.run_path(sys.argv[1], run_name="__main__")

// Package firmware holds Buttonhook's reference firmware for button boards,
// which speaks BH1, the line protocol of docs/protocol.md: an Arduino sketch
// (arduino/buttonhook) and a MicroPython script for the Raspberry Pi Pico
// (pico/main.py). It has no Go API. Its tests build the sketch with the host's
// g++ against a small Arduino shim (arduino/hostshim) and run the script under
// CPython with a fake machine module (pico/hostshim), each on a real
// pseudo-terminal, and drive them through the protocol suite (bh1test) and
// the serial driver's conformance suite (devicetest), as the simulator is.
// See README.md for wiring and flashing.
package firmware

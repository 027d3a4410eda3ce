package firmware_test

import (
	"bufio"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// avrCore is where Debian's arduino-core-avr puts the Arduino AVR core.
const avrCore = "/usr/share/arduino/hardware/arduino/avr"

// avrBoard is a board the sketch is built for, with the flash its bootloader
// leaves and its RAM (arduino-core-avr's boards.txt).
type avrBoard struct {
	name       string
	flash, ram int
	defines    string // make DEFINES=
}

// TestAVRBuild builds the sketch for real AVR boards with avr-g++ and the
// Arduino core, through arduino/Makefile (warnings are errors), and checks
// that each program fits its chip: the flash, and the RAM with at least a
// quarter left for the stack (the Arduino IDE warns of "low memory" past
// 75%). It checks the .hex too: every record's checksum, and that it holds
// exactly the program's bytes. It skips without the toolchain.
func TestAVRBuild(t *testing.T) {
	for _, tool := range []string{"avr-g++", "avr-gcc-ar", "avr-objcopy", "avr-size", "make"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found, so the sketch cannot be built for AVR: apt-get install gcc-avr avr-libc arduino-core-avr make (make deps-test does)", tool)
		}
	}
	if _, err := os.Stat(filepath.Join(avrCore, "cores/arduino/Arduino.h")); err != nil {
		t.Skipf("no Arduino AVR core at %s: apt-get install arduino-core-avr (make deps-test does)", avrCore)
	}
	rgb2, err := filepath.Abs("testdata/arduino_rgb2.h")
	if err != nil {
		t.Fatal(err)
	}
	boards := []avrBoard{
		{name: "uno", flash: 32256, ram: 2048},
		{name: "nano", flash: 30720, ram: 2048},
		{name: "leonardo", flash: 28672, ram: 2560},
		{name: "micro", flash: 28672, ram: 2560},
		{name: "mega", flash: 253952, ram: 8192},
		// Two buttons with RGB LEDs, as in the host tests, and a chosen
		// serial number: the other branches of the sketch.
		{name: "uno", flash: 32256, ram: 2048, defines: `BH_CONFIG="` + rgb2 + `" BH_SERIAL="DESK-1"`},
	}
	for _, b := range boards {
		label := b.name
		if b.defines != "" {
			label += "-rgb2"
		}
		t.Run(label, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			args := []string{"-s", "-C", "arduino", "BOARD=" + b.name, "BUILD=" + dir}
			if b.defines != "" {
				args = append(args, "DEFINES="+b.defines)
			}
			cmd := exec.Command("make", args...)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("make %s: %v\n%s", strings.Join(args, " "), err, out)
			}
			elfPath := filepath.Join(dir, "buttonhook.elf")
			flash, ram, err := avrSizes(elfPath)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: flash %d of %d bytes (%d%%), RAM %d of %d bytes (%d%%)",
				label, flash, b.flash, flash*100/b.flash, ram, b.ram, ram*100/b.ram)
			if flash > b.flash {
				t.Errorf("flash: %d bytes, the %s has %d", flash, b.name, b.flash)
			}
			if ram > b.ram*3/4 {
				t.Errorf("RAM: %d bytes of %d, leaving less than a quarter for the stack", ram, b.ram)
			}
			n, err := hexBytes(filepath.Join(dir, "buttonhook.hex"))
			if err != nil {
				t.Fatal(err)
			}
			if n != flash {
				t.Errorf(".hex holds %d bytes, want %d (.text + .data)", n, flash)
			}
		})
	}
}

// avrSizes returns what a program takes of an AVR's flash (.text and the
// initial values of .data) and of its RAM (.data, .bss, .noinit), as
// avr-size and the Arduino IDE count them.
func avrSizes(path string) (flash, ram int, err error) {
	f, err := elf.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	if f.Machine != elf.EM_AVR {
		return 0, 0, fmt.Errorf("%s: machine %v, want AVR", path, f.Machine)
	}
	for _, s := range f.Sections {
		switch s.Name {
		case ".text":
			flash += int(s.Size)
		case ".data":
			flash += int(s.Size)
			ram += int(s.Size)
		case ".bss", ".noinit":
			ram += int(s.Size)
		}
	}
	if flash == 0 {
		return 0, 0, fmt.Errorf("%s: no .text", path)
	}
	return flash, ram, nil
}

// hexBytes checks an Intel HEX file's records and returns how many data
// bytes it holds.
func hexBytes(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n, eof := 0, false
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if eof {
			return 0, fmt.Errorf("%s:%d: data after the end-of-file record", path, line)
		}
		rec, err := hex.DecodeString(strings.TrimPrefix(text, ":"))
		if !strings.HasPrefix(text, ":") || err != nil || len(rec) < 5 || len(rec) != 5+int(rec[0]) {
			return 0, fmt.Errorf("%s:%d: not an Intel HEX record: %q", path, line, text)
		}
		var sum byte
		for _, c := range rec {
			sum += c
		}
		if sum != 0 {
			return 0, fmt.Errorf("%s:%d: bad checksum", path, line)
		}
		switch rec[3] {
		case 0x00:
			n += int(rec[0])
		case 0x01:
			eof = true
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	if !eof {
		return 0, fmt.Errorf("%s: no end-of-file record", path)
	}
	return n, nil
}

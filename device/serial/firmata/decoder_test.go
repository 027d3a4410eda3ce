package firmata

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"
)

// decodeAll feeds every byte of in and returns the messages as strings
// (their Data is copied) and the malformed count.
func decodeAll(dir Direction, in []byte) ([]string, uint64) {
	d := Decoder{Dir: dir}
	var got []string
	for _, b := range in {
		if m, ok := d.Feed(b); ok {
			got = append(got, describe(m))
		}
	}
	return got, d.Malformed()
}

func describe(m Message) string {
	if m.Command == StartSysex {
		return fmt.Sprintf("sysex %02x % x", m.SysexID, m.Data)
	}
	return fmt.Sprintf("%02x/%d % x", m.Command, m.Channel, m.Data)
}

func TestDecoder(t *testing.T) {
	tests := []struct {
		name      string
		dir       Direction
		in        []byte
		want      []string
		malformed uint64
	}{
		{"version report", FromBoard, AppendVersion(nil, 2, 5), []string{"f9/0 02 05"}, 0},
		{"version query", FromHost, AppendVersionQuery(nil), []string{"f9/0 "}, 0},
		{"digital port 2", FromBoard, AppendDigital(nil, 2, 0xA5), []string{"90/2 25 01"}, 0},
		{"firmware", FromBoard, AppendFirmware(nil, 2, 5, "Std"),
			[]string{"sysex 79 02 05 53 00 74 00 64 00"}, 0},
		{"host setup", FromHost,
			AppendReportDigital(AppendSetPinValue(AppendSetPinMode(nil, 2, InputPullup), 13, true), 0, true),
			[]string{"f4/0 02 0b", "f5/0 0d 01", "d0/0 01"}, 0},
		{"stray data bytes", FromBoard, []byte{0x01, 0x02, 0xF9, 2, 5, 0x03}, []string{"f9/0 02 05"}, 3},
		{"cut short by the next command", FromBoard, []byte{0x90, 0x01, 0xF9, 2, 5}, []string{"f9/0 02 05"}, 1},
		{"sysex cut short", FromBoard, []byte{0xF0, 0x79, 2, 0x91, 1, 0}, []string{"90/1 01 00"}, 1},
		{"unknown command and its data", FromBoard, []byte{0x80, 1, 2, 3, 0xF9, 2, 6}, []string{"f9/0 02 06"}, 1},
		{"stray end of sysex", FromBoard, []byte{0xF7, 0xF9, 2, 6}, []string{"f9/0 02 06"}, 1},
		{"empty sysex", FromBoard, []byte{0xF0, 0xF7}, nil, 1},
		{"unknown sysex is a message", FromBoard, []byte{0xF0, 0x10, 1, 2, 0xF7}, []string{"sysex 10 01 02"}, 0},
		{"oversized sysex", FromBoard, append(append([]byte{0xF0, 0x71}, make([]byte, MaxSysex+5)...), 0xF7, 0xF9, 2, 5),
			[]string{"f9/0 02 05"}, 1},
		{"version query from the board is cut short", FromBoard, []byte{0xF9, 0xF9, 2, 5}, []string{"f9/0 02 05"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, malformed := decodeAll(tt.dir, tt.in)
			if !reflect.DeepEqual(got, tt.want) || malformed != tt.malformed {
				t.Errorf("decode % x = %q, %d malformed; want %q, %d", tt.in, got, malformed, tt.want, tt.malformed)
			}
		})
	}
}

func TestValue14(t *testing.T) {
	d := Decoder{}
	var got []int
	for _, b := range AppendDigital(nil, 1, 0xFF) {
		if m, ok := d.Feed(b); ok {
			got = append(got, m.Value14())
		}
	}
	if !reflect.DeepEqual(got, []int{0xFF}) {
		t.Errorf("Value14 of port value 0xff = %v; want [255]", got)
	}
}

func TestParseFirmware(t *testing.T) {
	msg := AppendFirmware(nil, 2, 13, "StandardFirmata.ino\x01")
	major, minor, name, ok := ParseFirmware(msg[2 : len(msg)-1])
	if !ok || major != 2 || minor != 13 || name != "StandardFirmata.ino?" {
		t.Errorf("ParseFirmware = %d, %d, %q, %v; want 2, 13, \"StandardFirmata.ino?\", true", major, minor, name, ok)
	}
	if _, _, _, ok := ParseFirmware([]byte{2}); ok {
		t.Error("ParseFirmware of one byte: ok; want not ok")
	}
}

func TestParseCapabilities(t *testing.T) {
	pins := [][]PinMode{nil, {Input, Output, InputPullup}, {Output}}
	msg := AppendCapabilities(nil, pins)
	got := ParseCapabilities(msg[2 : len(msg)-1])
	if !reflect.DeepEqual(got, pins) {
		t.Errorf("ParseCapabilities = %v; want %v", got, pins)
	}
	if !Supports(got[1], InputPullup) || Supports(got[2], Input) {
		t.Errorf("Supports gives the wrong answer for %v", got)
	}
}

func TestPortOf(t *testing.T) {
	for _, tt := range []struct {
		pin, port int
		bit       uint
	}{{0, 0, 0}, {7, 0, 7}, {8, 1, 0}, {13, 1, 5}, {127, 15, 7}} {
		if port, bit := PortOf(tt.pin); port != tt.port || bit != tt.bit {
			t.Errorf("PortOf(%d) = %d, %d; want %d, %d", tt.pin, port, bit, tt.port, tt.bit)
		}
	}
}

// FuzzDecoder checks that any byte stream decodes without panicking into
// well-formed messages, that a digital or version message re-encodes to the
// bytes it came from, and that a version report after any garbage still
// comes through.
func FuzzDecoder(f *testing.F) {
	f.Add([]byte{0xF9, 2, 5})
	f.Add(AppendFirmware(nil, 2, 5, "StandardFirmata"))
	f.Add(append(AppendDigital(nil, 1, 0xDF), 0x01, 0xF7, 0x90))
	f.Add([]byte{0xF0, 0x6C, 0, 1, 1, 1, 0x7F, 0xF7})
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, dir := range []Direction{FromBoard, FromHost} {
			d := Decoder{Dir: dir}
			for _, b := range in {
				m, ok := d.Feed(b)
				if !ok {
					continue
				}
				for _, x := range m.Data {
					if x >= 0x80 {
						t.Fatalf("message %s has a data byte %#x", describe(m), x)
					}
				}
				if m.Command == StartSysex && len(m.Data) > MaxSysex {
					t.Fatalf("sysex of %d bytes; want at most %d", len(m.Data), MaxSysex)
				}
				var again []byte
				switch {
				case m.Command == DigitalMessage && m.Data[1] <= 1:
					again = AppendDigital(nil, int(m.Channel), uint8(m.Value14()))
				case m.Command == ReportVersion && dir == FromBoard:
					again = AppendVersion(nil, m.Data[0], m.Data[1])
				default:
					continue
				}
				if got, _ := decodeAll(dir, again); len(got) != 1 || got[0] != describe(m) {
					t.Fatalf("%s re-encoded as % x decodes as %q", describe(m), again, got)
				}
			}
			got, _ := decodeAll(dir, append(bytes.Clone(in), AppendVersion(nil, 2, 5)...))
			if dir == FromBoard && (len(got) == 0 || got[len(got)-1] != "f9/0 02 05") {
				t.Fatalf("a version report after % x was not decoded: %q", in, got)
			}
		}
	})
}

package firmata

// Direction says which way the bytes a Decoder reads travel; a few commands
// differ (ReportVersion is a bare query from the host but carries the
// version from the board).
type Direction int

// Directions.
const (
	FromBoard Direction = iota // the host decodes what the board sends
	FromHost                   // the board (simulator) decodes what the host sends
)

// Message is one decoded Firmata message.
type Message struct {
	// Command is the command byte, with the channel nibble cleared for
	// the channel commands (0x90 for any digital message) and StartSysex
	// for a SysEx message.
	Command byte
	// Channel is the port or pin of a channel command.
	Channel byte
	// SysexID is the ID of a SysEx message.
	SysexID byte
	// Data are the data bytes (each below 0x80); for SysEx, the payload
	// after the ID. It is only valid until the next Feed.
	Data []byte
}

// Value14 returns the first two data bytes as a 14-bit value (least
// significant 7 bits first), as digital and analog messages carry it.
func (m Message) Value14() int {
	if len(m.Data) < 2 {
		return 0
	}
	return int(m.Data[0]) | int(m.Data[1])<<7
}

// Decoder splits a Firmata byte stream into messages. It never fails:
// bytes that do not belong to a message (data bytes with no command, a
// message cut short by the next command, an unknown command and its data,
// a SysEx longer than MaxSysex, a stray EndSysex) are skipped and counted
// by Malformed. The zero value decodes bytes from the board.
//
// A Decoder is not safe for concurrent use.
type Decoder struct {
	Dir Direction

	cmd      byte // command in progress; 0 for none
	need     int  // data bytes cmd takes
	sysex    bool // inside StartSysex ... EndSysex
	overflow bool // the SysEx in progress is too long
	skip     bool // data bytes of an unknown command follow
	buf      []byte

	malformed uint64
}

// Malformed returns how many skipped bytes and broken messages the Decoder
// has seen.
func (d *Decoder) Malformed() uint64 { return d.malformed }

// dataLen returns how many data bytes command c takes, or -1 for a command
// Firmata does not define in this direction.
func (d *Decoder) dataLen(c byte) int {
	switch c & 0xF0 {
	case DigitalMessage, AnalogMessage:
		return 2
	case ReportAnalog, ReportDigital:
		return 1
	}
	switch c {
	case SetPinMode, SetDigitalPinValue:
		return 2
	case ReportVersion:
		if d.Dir == FromHost {
			return 0
		}
		return 2
	case SystemReset:
		return 0
	}
	return -1
}

// Feed decodes one more byte. It returns a message when b completes one.
func (d *Decoder) Feed(b byte) (Message, bool) {
	if b < 0x80 {
		return d.data(b)
	}
	if d.sysex {
		if b == EndSysex {
			return d.endSysex()
		}
		d.malformed++ // cut short
		d.sysex = false
	} else if d.cmd != 0 {
		d.malformed++ // cut short
		d.cmd = 0
	}
	d.skip = false
	switch {
	case b == StartSysex:
		d.sysex, d.overflow, d.buf = true, false, d.buf[:0]
		return Message{}, false
	case b == EndSysex:
		d.malformed++ // no SysEx to end
		return Message{}, false
	}
	n := d.dataLen(b)
	if n < 0 {
		d.malformed++
		d.skip = true
		return Message{}, false
	}
	d.cmd, d.need, d.buf = b, n, d.buf[:0]
	if n == 0 {
		return d.complete()
	}
	return Message{}, false
}

func (d *Decoder) data(b byte) (Message, bool) {
	switch {
	case d.sysex:
		if len(d.buf) >= MaxSysex+1 { // the ID and MaxSysex bytes
			d.overflow = true
			return Message{}, false
		}
		d.buf = append(d.buf, b)
		return Message{}, false
	case d.cmd == 0:
		if !d.skip {
			d.malformed++ // Firmata has no running status
		}
		return Message{}, false
	}
	d.buf = append(d.buf, b)
	if len(d.buf) < d.need {
		return Message{}, false
	}
	return d.complete()
}

func (d *Decoder) complete() (Message, bool) {
	c := d.cmd
	d.cmd = 0
	m := Message{Command: c, Data: d.buf}
	if c < 0xF0 {
		m.Command, m.Channel = c&0xF0, c&0x0F
	}
	return m, true
}

func (d *Decoder) endSysex() (Message, bool) {
	d.sysex = false
	if d.overflow || len(d.buf) == 0 {
		d.malformed++
		return Message{}, false
	}
	return Message{Command: StartSysex, SysexID: d.buf[0], Data: d.buf[1:]}, true
}

package serial

import (
	"bytes"
	"fmt"
	"io"
	"time"
)

// errLinesTooLong reports a received line longer than MaxLinesLine bytes
// from a lines device. It is never fatal: the line is skipped.
var errLinesTooLong = fmt.Errorf("line longer than %d bytes", MaxLinesLine)

// lineFormat is how a LineReader splits its stream.
type lineFormat struct {
	// max is the longest line in bytes, its ending included.
	max int
	// anyEnding makes "\r" end a line as "\n" does ("\r\n" is one ending),
	// returns lines without their ending and skips empty ones. Without it
	// only "\n" ends a line, and a line is returned with its ending (and
	// any "\r" before it).
	anyEnding bool
	// tooLong is the error for a line longer than max.
	tooLong error
}

// Line formats: BH1's, and the text of a generic lines device.
var (
	bh1Lines  = lineFormat{max: MaxLine, tooLong: ErrLineTooLong}
	textLines = lineFormat{max: MaxLinesLine + 1, anyEnding: true, tooLong: errLinesTooLong}
)

// LineReader splits a byte stream into BH1 lines and enforces MaxLine: a
// longer line is discarded up to the next "\n" and reported once as
// ErrLineTooLong, which is never fatal. It reads into a fixed buffer and
// returns every complete line it already holds before reading again, so a
// line is handed on as soon as its "\n" arrives. (Inside this package it
// also splits the text of lines devices: any line ending, a larger limit.)
//
// A LineReader is not safe for concurrent use.
type LineReader struct {
	r          io.Reader
	f          lineFormat
	buf        []byte
	start, end int       // buf[start:end] is unread
	scanned    int       // buf[start:start+scanned] holds no line ending
	discarding bool      // inside a line that was too long
	err        error     // from the last Read, returned once the buffer is used up
	readAt     time.Time // when the last Read that returned bytes returned
}

// NewLineReader returns a LineReader reading BH1 lines from r.
func NewLineReader(r io.Reader) *LineReader { return newLineReader(r, bh1Lines) }

func newLineReader(r io.Reader, f lineFormat) *LineReader {
	return &LineReader{r: r, f: f, buf: make([]byte, max(4096, 2*f.max))}
}

// ReadLine returns the next line including its "\n" (and any "\r" before it).
// The line is only valid until the next call.
//
// When the underlying Read returns no bytes and no error (nothing has
// arrived yet), ReadLine returns (nil, nil) so that the caller can wait or
// look at its context; a partial line is kept for the next call. A line
// longer than MaxLine gives ErrLineTooLong once, as soon as it is known to
// be too long; the rest of it is skipped. Any other error is the reader's,
// returned after the complete lines read with it; a partial line is then
// lost.
func (lr *LineReader) ReadLine() ([]byte, error) {
	for {
		if line, ok, err := lr.next(); ok {
			return line, err
		}
		if err := lr.err; err != nil {
			lr.err = nil
			lr.start, lr.end, lr.scanned, lr.discarding = 0, 0, 0, false
			return nil, err
		}
		if lr.start > 0 {
			// Make room: move the partial line to the front.
			lr.end = copy(lr.buf, lr.buf[lr.start:lr.end])
			lr.start = 0
		}
		n, err := lr.r.Read(lr.buf[lr.end:])
		if n > 0 {
			lr.readAt = time.Now()
		}
		lr.end += n
		lr.err = err
		if n == 0 && err == nil {
			return nil, nil
		}
	}
}

// receivedAt returns when the line ReadLine last returned was received:
// when the Read that completed it returned. Lines that arrived in one read
// arrived together, however long they take to handle.
func (lr *LineReader) receivedAt() time.Time { return lr.readAt }

// next takes a line (or an over-long report) from the buffer; ok is false
// when the buffer needs more bytes.
func (lr *LineReader) next() (line []byte, ok bool, err error) {
	for {
		pending := lr.buf[lr.start:lr.end]
		i := lr.index(pending[lr.scanned:])
		if i < 0 {
			break
		}
		i += lr.scanned
		line = pending[:i+1]
		lr.start += i + 1
		lr.scanned = 0
		switch {
		case lr.discarding:
			// The tail of a line already reported: drop it, look further.
			lr.discarding = false
		case len(line) > lr.f.max:
			return nil, true, lr.f.tooLong
		case !lr.f.anyEnding:
			return line, true, nil
		case i > 0:
			return line[:i], true, nil
		}
	}
	pending := lr.buf[lr.start:lr.end]
	lr.scanned = len(pending)
	if lr.discarding {
		lr.start, lr.end, lr.scanned = 0, 0, 0
		return nil, false, nil
	}
	if len(pending) >= lr.f.max {
		// max bytes and still no ending: too long whatever follows.
		lr.discarding = true
		lr.start, lr.end, lr.scanned = 0, 0, 0
		return nil, true, lr.f.tooLong
	}
	return nil, false, nil
}

// index returns the index of the first line ending in b, or -1.
func (lr *LineReader) index(b []byte) int {
	if lr.f.anyEnding {
		return bytes.IndexAny(b, "\r\n")
	}
	return bytes.IndexByte(b, '\n')
}

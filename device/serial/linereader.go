package serial

import (
	"bytes"
	"io"
)

// LineReader splits a byte stream into BH1 lines and enforces MaxLine: a
// longer line is discarded up to the next "\n" and reported once as
// ErrLineTooLong, which is never fatal. It reads into a fixed buffer and
// returns every complete line it already holds before reading again, so a
// line is handed on as soon as its "\n" arrives.
//
// A LineReader is not safe for concurrent use.
type LineReader struct {
	r          io.Reader
	buf        []byte
	start, end int   // buf[start:end] is unread
	scanned    int   // buf[start:start+scanned] holds no '\n'
	discarding bool  // inside a line that was too long
	err        error // from the last Read, returned once the buffer is used up
}

// NewLineReader returns a LineReader reading from r.
func NewLineReader(r io.Reader) *LineReader {
	return &LineReader{r: r, buf: make([]byte, 4096)}
}

// ReadLine returns the next line including its "\n" (and any "\r" before it).
// The line is only valid until the next call.
//
// When the underlying Read returns no bytes and no error (a serial port's
// read timeout), ReadLine returns (nil, nil) so that the caller can look at
// its context; a partial line is kept for the next call. A line longer than
// MaxLine gives ErrLineTooLong once, as soon as it is known to be too long;
// the rest of it is skipped. Any other error is the reader's, returned after
// the complete lines read with it; a partial line is then lost.
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
		lr.end += n
		lr.err = err
		if n == 0 && err == nil {
			return nil, nil
		}
	}
}

// next takes a line (or an over-long report) from the buffer; ok is false
// when the buffer needs more bytes.
func (lr *LineReader) next() (line []byte, ok bool, err error) {
	pending := lr.buf[lr.start:lr.end]
	i := bytes.IndexByte(pending[lr.scanned:], '\n')
	if i >= 0 {
		i += lr.scanned
		line = pending[:i+1]
		lr.start += i + 1
		lr.scanned = 0
		if lr.discarding {
			// The tail of a line already reported: drop it, look further.
			lr.discarding = false
			return lr.next()
		}
		if len(line) > MaxLine {
			return nil, true, ErrLineTooLong
		}
		return line, true, nil
	}
	lr.scanned = len(pending)
	if lr.discarding {
		lr.start, lr.end, lr.scanned = 0, 0, 0
		return nil, false, nil
	}
	if len(pending) >= MaxLine {
		// MaxLine bytes and still no '\n': too long whatever follows.
		lr.discarding = true
		lr.start, lr.end, lr.scanned = 0, 0, 0
		return nil, true, ErrLineTooLong
	}
	return nil, false, nil
}

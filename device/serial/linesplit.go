package serial

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// errLinesTooLong reports a received line longer than MaxLinesLine. It is
// never fatal: the line is skipped.
var errLinesTooLong = fmt.Errorf("line longer than %d bytes", MaxLinesLine)

// lineSplitter splits what a generic device prints into lines: a line ends
// at "\n", "\r" or "\r\n", and empty lines are skipped. It is BH1's
// LineReader with any line ending and a larger limit, MaxLinesLine bytes
// without the ending: a longer line is reported once as errLinesTooLong and
// skipped up to its end.
//
// A lineSplitter is not safe for concurrent use.
type lineSplitter struct {
	r          io.Reader
	buf        []byte
	start, end int   // buf[start:end] is unread
	discarding bool  // inside a line that was too long
	err        error // from the last Read, returned once the buffer is used up
}

func newLineSplitter(r io.Reader) *lineSplitter {
	return &lineSplitter{r: r, buf: make([]byte, 4*MaxLinesLine)}
}

// next returns the next line without its ending, valid until the next call.
// When the Read returns no bytes and no error (a serial port's read
// timeout) it returns (nil, nil); a partial line is kept. Any error but
// errLinesTooLong is the reader's, returned after the complete lines read
// with it; a partial line is then lost.
func (s *lineSplitter) next() ([]byte, error) {
	for {
		pending := s.buf[s.start:s.end]
		if i := bytes.IndexAny(pending, "\r\n"); i >= 0 {
			line := pending[:i]
			s.start += i + 1
			if s.discarding {
				s.discarding = false // the tail of a line already reported
				continue
			}
			if len(line) == 0 {
				continue
			}
			if len(line) > MaxLinesLine {
				return nil, errLinesTooLong
			}
			return line, nil
		}
		if s.discarding {
			s.start, s.end = 0, 0
		} else if len(pending) > MaxLinesLine {
			s.discarding = true
			s.start, s.end = 0, 0
			return nil, errLinesTooLong
		}
		if err := s.err; err != nil {
			s.err = nil
			s.start, s.end, s.discarding = 0, 0, false
			return nil, err
		}
		if s.start > 0 {
			s.end = copy(s.buf, s.buf[s.start:s.end])
			s.start = 0
		}
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		s.err = err
		if n == 0 && err == nil {
			return nil, nil
		}
	}
}

// isTooLong reports whether err is a skipped over-long line.
func isTooLong(err error) bool { return errors.Is(err, errLinesTooLong) }

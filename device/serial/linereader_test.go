package serial

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// chunkReader returns its chunks one Read at a time; an empty chunk is a
// read timeout (0, nil). After the last chunk it returns io.EOF.
type chunkReader struct {
	chunks      []string
	eofWithData bool // return io.EOF together with the last chunk
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.chunks) == 0 {
		return 0, io.EOF
	}
	c := r.chunks[0]
	n := copy(p, c)
	if n < len(c) {
		r.chunks[0] = c[n:]
		return n, nil
	}
	r.chunks = r.chunks[1:]
	if r.eofWithData && len(r.chunks) == 0 {
		return n, io.EOF
	}
	return n, nil
}

// readAll reads lines until an error other than ErrLineTooLong, writing
// each line as it came, "<timeout>" for (nil, nil) and "<too long>".
func readAll(t *testing.T, lr *LineReader) (got []string, err error) {
	t.Helper()
	for range 1000 {
		line, err := lr.ReadLine()
		switch {
		case errors.Is(err, ErrLineTooLong):
			got = append(got, "<too long>")
		case err != nil:
			return got, err
		case line == nil:
			got = append(got, "<timeout>")
		default:
			got = append(got, string(line))
		}
	}
	t.Fatalf("ReadLine did not stop after 1000 calls")
	return nil, nil
}

func TestLineReader(t *testing.T) {
	long := strings.Repeat("x", MaxLine) // with its "\n", one byte too many
	tests := []struct {
		name   string
		chunks []string
		want   []string
	}{
		{"one line", []string{"D 1\n"}, []string{"D 1\n"}},
		{"lines in one read", []string{"D 1\nU 1\r\nPONG\n"}, []string{"D 1\n", "U 1\r\n", "PONG\n"}},
		{"line split over reads", []string{"D", " 1", "\n"}, []string{"D 1\n"}},
		{"timeout keeps partial line", []string{"D ", "", "1\nU", "", " 1\n"},
			[]string{"<timeout>", "D 1\n", "<timeout>", "U 1\n"}},
		{"empty lines", []string{"\n\r\n"}, []string{"\n", "\r\n"}},
		{"longest line", []string{long[:MaxLine-1] + "\n"}, []string{long[:MaxLine-1] + "\n"}},
		{"too long in one read", []string{long + "\nD 1\n"}, []string{"<too long>", "D 1\n"}},
		{"too long, byte by byte", strings.Split(long+"\nD 1\n", ""), []string{"<too long>", "D 1\n"}},
		{"too long, reported before its end", []string{long + long, "", long + "\nD 2\n"},
			[]string{"<too long>", "<timeout>", "D 2\n"}},
		{"very long", []string{strings.Repeat("y", 10000) + "\nU 3\n"}, []string{"<too long>", "U 3\n"}},
		{"two too long", []string{long + "\n" + long + "\n"}, []string{"<too long>", "<too long>"}},
		{"partial line lost at EOF", []string{"D 1\nD"}, []string{"D 1\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lr := NewLineReader(&chunkReader{chunks: tt.chunks})
			got, err := readAll(t, lr)
			if err != io.EOF {
				t.Errorf("final error = %v; want io.EOF", err)
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("lines = %q; want %q", got, tt.want)
			}
		})
	}
}

func TestLineReaderErrorAfterLines(t *testing.T) {
	lr := NewLineReader(&chunkReader{chunks: []string{"D 1\nU 1\nD"}, eofWithData: true})
	got, err := readAll(t, lr)
	if err != io.EOF {
		t.Errorf("final error = %v; want io.EOF", err)
	}
	if want := []string{"D 1\n", "U 1\n"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("lines = %q; want %q (the lines read with the error come first)", got, want)
	}
}

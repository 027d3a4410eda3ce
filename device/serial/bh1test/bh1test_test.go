//go:build linux

package bh1test

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/buttonhook/buttonhook/device/serial"
	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// policy answers one host line (without "\n"); nil means no answer.
type policy func(line string) []string

// edge formats a D/U line; a faulty board may spell it wrong.
type edgeFormat func(n int, down bool) string

func newFake(t *testing.T, answer policy, edge edgeFormat, chatty bool) *fakeBoard {
	t.Helper()
	master, slave, err := pty.Open()
	if err != nil {
		t.Fatalf("open a pseudo-terminal: %v", err)
	}
	tio, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	tio.Iflag &^= unix.ICRNL | unix.IXON | unix.INLCR | unix.IGNCR
	tio.Oflag &^= unix.OPOST
	tio.Lflag &^= unix.ECHO | unix.ICANON | unix.ISIG | unix.IEXTEN
	if err := unix.IoctlSetTermios(int(slave.Fd()), unix.TCSETS, tio); err != nil {
		t.Fatal(err)
	}
	b := &fakeBoard{master: master, slave: slave, edge: edge}
	done := make(chan struct{})
	stop := make(chan struct{})
	go func() {
		defer close(done)
		r := bufio.NewReader(master)
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				return
			}
			for _, a := range answer(strings.TrimSuffix(l, "\n")) {
				b.write(a)
			}
		}
	}()
	if chatty {
		go func() {
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-tick.C:
					b.write("DEBUG loop")
				case <-stop:
					return
				}
			}
		}()
	}
	t.Cleanup(func() {
		close(stop)
		_ = master.Close()
		_ = slave.Close()
		<-done
	})
	return b
}

// fakeBoard is a board on a real pseudo-terminal whose answers come from a
// policy, so that the suite can be shown to fail boards that break BH1.
type fakeBoard struct {
	master, slave *os.File
	mu            sync.Mutex // one line at a time
	edge          edgeFormat
}

func (b *fakeBoard) write(line string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, _ = b.master.WriteString(line + "\n")
}

func (b *fakeBoard) Path() string { return b.slave.Name() }

func (b *fakeBoard) Down(n int) error { b.write(b.edge(n, true)); return nil }

func (b *fakeBoard) Up(n int) error { b.write(b.edge(n, false)); return nil }

const fakeHello = "HELLO BH1 model=fake fw=1 sn=F1 buttons=2 leds=red,green,yellow"

// good follows BH1.
func good(line string) []string {
	c, err := serial.ParseCommand([]byte(line + "\n"))
	switch {
	case err != nil:
		return nil
	case c.Kind == serial.CommandHello:
		return []string{fakeHello}
	case c.Kind == serial.CommandPing:
		return []string{serial.FormatPong(c.Token)}
	}
	return nil
}

// faults are boards that each break BH1 in one way, with the checks that
// must catch it.
var faults = []struct {
	name   string
	answer policy
	edge   edgeFormat
	chatty bool
	caught []string
}{
	{
		name: "ERR for malformed lines",
		answer: func(l string) []string {
			if _, err := serial.ParseCommand([]byte(l + "\n")); err != nil {
				return []string{"ERR bad line"}
			}
			return good(l)
		},
		caught: []string{"MalformedIgnored"},
	},
	{
		name: "PONG without its token",
		answer: func(l string) []string {
			if a := good(l); len(a) == 1 && strings.HasPrefix(a[0], "PONG ") && !strings.HasPrefix(a[0], "PONG sync") {
				return []string{"PONG"}
			}
			return good(l)
		},
		caught: []string{"Ping", "LongestLine", "Burst"},
	},
	{
		name: "no 128-byte limit",
		answer: func(l string) []string {
			if f := strings.Fields(l); len(f) == 2 && f[0] == "PING" && len(l) >= serial.MaxLine {
				return []string{"PONG " + f[1][:10]}
			}
			return good(l)
		},
		caught: []string{"LongestLine"},
	},
	{
		name: "HELLO without sn",
		answer: func(l string) []string {
			if l == "HELLO?" {
				return []string{"HELLO BH1 model=fake fw=1 buttons=1 leds=red"}
			}
			return good(l)
		},
		caught: []string{"Hello"},
	},
	{
		name:   "lower-case edges",
		answer: good,
		edge: func(n int, down bool) string {
			return strings.ToLower(serial.FormatEdge(n, down))
		},
		caught: []string{"Edges", "EdgeWhileAnswering"},
	},
	{
		name:   "debug output",
		answer: good,
		chatty: true,
		caught: []string{"NothingUnasked"},
	},
	{
		name: "LED for a missing button answered with PONG",
		answer: func(l string) []string {
			if l == "LED 3 ON red" {
				return []string{"PONG"}
			}
			return good(l)
		},
		caught: []string{"LEDMissingButton"},
	},
}

// failures runs every check on boards made by open and returns each
// check's failures.
func failures(t *testing.T, open func(t *testing.T) Board) map[string][]string {
	got := map[string][]string{}
	for _, ch := range checks {
		t.Run(ch.name, func(t *testing.T) {
			if errs := runCheck(t, Harness{Open: open}, ch.fn); len(errs) > 0 {
				got[ch.name] = errs
			}
		})
	}
	return got
}

func TestGoodBoardPasses(t *testing.T) {
	Run(t, Harness{Open: func(t *testing.T) Board { return newFake(t, good, serial.FormatEdge, false) }})
}

func TestFaultsCaught(t *testing.T) {
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			edge := f.edge
			if edge == nil {
				edge = serial.FormatEdge
			}
			got := failures(t, func(t *testing.T) Board { return newFake(t, f.answer, edge, f.chatty) })
			for _, name := range f.caught {
				if len(got[name]) == 0 {
					t.Errorf("check %s passed a board with %s; want it to fail", name, f.name)
				}
			}
			if len(got) == 0 {
				t.Errorf("the suite passed a board with %s", f.name)
			}
			for name, errs := range got {
				t.Logf("%s: %s", name, fmt.Sprint(errs))
			}
		})
	}
}

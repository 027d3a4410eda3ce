package device_test

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/buttonhook/buttonhook/device"
	"github.com/buttonhook/buttonhook/device/serial"
	"github.com/buttonhook/buttonhook/device/sim"
)

var idleCPU = flag.Duration("idlecpu", 0, "TestIdleCPU: measure each phase this long (the figure: 60s); 0 skips the test")

// boardsEnv makes the test binary run TestSimBoardsProcess as a child
// process holding that many simulated boards.
const boardsEnv = "BUTTONHOOK_TEST_SIM_BOARDS"

// TestSimBoardsProcess is not a test: it is the child process of TestIdleCPU,
// which keeps the simulated boards out of the measured process. It prints
// each board's pseudo-terminal and holds them until its stdin closes.
func TestSimBoardsProcess(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv(boardsEnv))
	if n == 0 {
		t.Skip("the child process of TestIdleCPU")
	}
	for i := range n {
		b, err := sim.New(sim.Options{Serial: fmt.Sprintf("SIM-IDLE%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		fmt.Println("board", b.Path())
	}
	_, _ = bufio.NewReader(os.Stdin).ReadString(0) // until EOF
}

// TestIdleCPU measures the CPU the Manager and serial driver use while
// nothing happens: with three BH1 boards attached and with none (their ports
// configured but unplugged), each for -idlecpu after a 2 s warm-up. The
// boards run in a child process, so this process's CPU time
// (getrusage) is the host's side alone. It fails if three boards cost more
// than 0.2% of one core over none.
//
//	go test -run TestIdleCPU -v ./device/ -args -idlecpu 60s
func TestIdleCPU(t *testing.T) {
	if *idleCPU <= 0 {
		t.Skip("run with -args -idlecpu 60s")
	}
	boards := startBoards(t, 3)
	drv := serial.NewDriver(nil)
	dir := t.TempDir()
	var absent []string
	for i := range boards {
		absent = append(absent, filepath.Join(dir, fmt.Sprintf("ttyACM%d", i)))
	}
	drv.SetPorts(absent)
	m := device.NewManager(nil, device.DefaultScanInterval, drv)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- m.Run(ctx, func(device.Event) {}) }()
	defer func() {
		cancel()
		<-done
	}()

	none := measureIdle(t, *idleCPU)
	drv.SetPorts(boards)
	m.Rescan()
	for deadline := time.Now().Add(5 * time.Second); len(m.Devices()) < len(boards); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("attached %v, want the %d boards", m.Devices(), len(boards))
		}
	}
	three := measureIdle(t, *idleCPU)
	t.Logf("idle over %v: no devices %v; three devices %v; difference %.3f%% of a core",
		*idleCPU, none, three, (three.cpu-none.cpu)*100)
	if d := three.cpu - none.cpu; d > 0.002 {
		t.Errorf("three idle devices cost %.3f%% of a core more than none, want at most 0.2%% (indistinguishable)", d*100)
	}
}

// idle is what this process used over a measurement.
type idle struct {
	cpu      float64 // CPU time (user and system) per wall-clock second
	switches float64 // context switches per second
}

func (i idle) String() string {
	return fmt.Sprintf("%.3f%% of a core (%.2f ms/s), %.0f context switches/s", i.cpu*100, i.cpu*1000, i.switches)
}

// measureIdle measures this process over d, after a 2 s warm-up.
func measureIdle(t *testing.T, d time.Duration) idle {
	t.Helper()
	time.Sleep(2 * time.Second)
	r0, wall0 := rusage(t), time.Now()
	time.Sleep(d)
	r1, wall := rusage(t), time.Since(wall0)
	cpu := func(r syscall.Rusage) int64 { return r.Utime.Nano() + r.Stime.Nano() }
	sw := func(r syscall.Rusage) int64 { return r.Nvcsw + r.Nivcsw }
	return idle{
		cpu:      float64(cpu(r1)-cpu(r0)) / float64(wall),
		switches: float64(sw(r1)-sw(r0)) / wall.Seconds(),
	}
}

func rusage(t *testing.T) syscall.Rusage {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return ru
}

// startBoards runs n simulated boards in a child process and returns their
// ports.
func startBoards(t *testing.T, n int) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSimBoardsProcess$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", boardsEnv, n))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		in.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("boards process: %v", err)
		}
	})
	var paths []string
	sc := bufio.NewScanner(out)
	for len(paths) < n && sc.Scan() {
		if p, ok := strings.CutPrefix(sc.Text(), "board "); ok {
			paths = append(paths, p)
		}
	}
	if len(paths) < n {
		t.Fatalf("boards process gave %d ports, want %d: %v", len(paths), n, sc.Err())
	}
	go func() { // the rest of its output (PASS), so it never blocks
		for sc.Scan() {
		}
	}()
	return paths
}

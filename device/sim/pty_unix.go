//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package sim

import (
	"fmt"
	"os"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal in raw mode. The master comes back
// non-blocking, so that it runs on Go's poller: Close releases a blocked Read
// and write deadlines work.
func openPTY() (master, slave *os.File, err error) {
	m, s, err := pty.Open()
	if err != nil {
		return nil, nil, fmt.Errorf("open pseudo-terminal: %w", err)
	}
	defer func() {
		if err != nil {
			_ = s.Close()
		}
	}()
	// pty.Open's master has been put in blocking mode; a duplicate of it
	// made non-blocking goes on the poller instead.
	fd, err := unix.FcntlInt(m.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	_ = m.Close()
	if err != nil {
		return nil, nil, fmt.Errorf("duplicate pseudo-terminal master: %w", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		_ = unix.Close(fd)
		return nil, nil, fmt.Errorf("pseudo-terminal master: %w", err)
	}
	master = os.NewFile(uintptr(fd), "/dev/ptmx")
	if err := makeRaw(s); err != nil {
		_ = master.Close()
		return nil, nil, fmt.Errorf("pseudo-terminal %s raw mode: %w", s.Name(), err)
	}
	return master, s, nil
}

// makeRaw sets f's terminal like cfmakeraw: bytes pass unchanged both ways
// ("\n" is not turned into "\r\n"), no echo, no line editing, no signals.
func makeRaw(f *os.File) error {
	sc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var terr error
	err = sc.Control(func(fd uintptr) {
		t, err := unix.IoctlGetTermios(int(fd), ioctlGetTermios)
		if err != nil {
			terr = err
			return
		}
		t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
		t.Oflag &^= unix.OPOST
		t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
		t.Cflag &^= unix.CSIZE | unix.PARENB
		t.Cflag |= unix.CS8
		t.Cc[unix.VMIN] = 1
		t.Cc[unix.VTIME] = 0
		terr = unix.IoctlSetTermios(int(fd), ioctlSetTermios, t)
	})
	if err != nil {
		return err
	}
	return terr
}

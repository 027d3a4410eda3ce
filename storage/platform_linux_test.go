package storage

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// fdatasync flushes f's data (not its inode times) to the disk, as Badger's
// msync does for its logs.
func fdatasync(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }

// memStatus returns the process's peak resident set size (VmHWM) and its
// current anonymous and file-backed resident memory (RssAnon, RssFile), in
// bytes, from /proc/self/status.
func memStatus() (peak, anon, file int64, err error) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0, 0, err
	}
	for line := range strings.Lines(string(data)) {
		name, rest, _ := strings.Cut(line, ":")
		kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
		switch name {
		case "VmHWM":
			peak = kb << 10
		case "RssAnon":
			anon = kb << 10
		case "RssFile":
			file = kb << 10
		}
	}
	return peak, anon, file, nil
}

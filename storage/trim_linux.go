package storage

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// trimTables asks the kernel to page out this process's mappings of the
// table files (*.sst) in dir, and returns how many bytes of mappings it
// advised.
//
// Badger maps every table file into memory and writes new tables through
// the mapping, so every page of every table it wrote or compacted stays in
// the process's resident set (RssFile) until the table is deleted: the file
// part of the RSS grows with the size of the log (about 130 MB at a million
// attempts). MADV_PAGEOUT hands those pages back to the kernel; a later read
// faults them in again from the page cache or the disk.
//
// MADV_PAGEOUT is used rather than MADV_DONTNEED because it never changes
// memory contents: Badger may unmap a table between the read of
// /proc/self/maps and the advice, and the address range may by then hold
// other memory, which MADV_DONTNEED would zero and MADV_PAGEOUT only pages
// out. Kernels before 5.4 do not know MADV_PAGEOUT: trimTables then returns
// the error and the caller stops trying.
func trimTables(dir string) (int64, error) {
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return 0, fmt.Errorf("read memory map: %w", err)
	}
	dir = filepath.Clean(dir) + string(filepath.Separator)
	var advised int64
	sc := bufio.NewScanner(bytes.NewReader(maps))
	for sc.Scan() {
		start, end, ok := tableMapping(sc.Text(), dir)
		if !ok {
			continue
		}
		_, _, errno := unix.Syscall(unix.SYS_MADVISE, start, end-start, unix.MADV_PAGEOUT)
		switch errno {
		case 0:
			advised += int64(end - start)
		case unix.EINVAL:
			return advised, fmt.Errorf("page out table files: %w", errno)
		default:
			// ENOMEM: unmapped since the read (the table was compacted
			// away); nothing to do.
		}
	}
	return advised, nil
}

// tableMapping parses one line of /proc/self/maps ("start-end perms offset
// dev inode path") and reports the address range when it is a shared mapping
// of a table file in dir.
func tableMapping(line, dir string) (start, end uintptr, ok bool) {
	f := strings.Fields(line)
	if len(f) < 6 || !strings.HasSuffix(f[5], ".sst") || !strings.HasPrefix(f[5], dir) {
		return 0, 0, false
	}
	if len(f[1]) < 4 || f[1][3] != 's' {
		return 0, 0, false
	}
	lo, hi, found := strings.Cut(f[0], "-")
	if !found {
		return 0, 0, false
	}
	s, err1 := strconv.ParseUint(lo, 16, 64)
	e, err2 := strconv.ParseUint(hi, 16, 64)
	if err1 != nil || err2 != nil || e <= s {
		return 0, 0, false
	}
	return uintptr(s), uintptr(e), true
}

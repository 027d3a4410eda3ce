package storage

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestTableMapping(t *testing.T) {
	dir := "/data/bh/"
	tests := []struct {
		line string
		ok   bool
	}{
		{"7f00a000-7f00c000 r--s 00000000 fe:01 123 /data/bh/000001.sst", true},
		{"7f00a000-7f00c000 rw-s 00000000 fe:01 123 /data/bh/000001.sst", true},
		{"7f00a000-7f00c000 r--p 00000000 fe:01 123 /data/bh/000001.sst", false}, // private
		{"7f00a000-7f00c000 r--s 00000000 fe:01 123 /data/bh/000001.vlog", false},
		{"7f00a000-7f00c000 r--s 00000000 fe:01 123 /data/other/000001.sst", false},
		{"7f00a000-7f00c000 rw-p 00000000 00:00 0", false},
		{"7f00c000-7f00a000 r--s 00000000 fe:01 123 /data/bh/000001.sst", false}, // backwards
	}
	for _, tt := range tests {
		start, end, ok := tableMapping(tt.line, dir)
		if ok != tt.ok {
			t.Errorf("tableMapping(%q) ok = %v, want %v", tt.line, ok, tt.ok)
		}
		if ok && (start != 0x7f00a000 || end != 0x7f00c000) {
			t.Errorf("tableMapping(%q) = %x-%x", tt.line, start, end)
		}
	}
}

// tableRSS sums the resident memory of the mappings that trimTables advises
// (those tableMapping accepts), from /proc/self/smaps: each mapping's first
// line there is its line of /proc/self/maps, followed by "Name: value" lines.
func tableRSS(t *testing.T, dir string) int64 {
	t.Helper()
	data, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	dir = filepath.Clean(dir) + string(filepath.Separator)
	var sum int64
	in := false
	for line := range strings.Lines(string(data)) {
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
		case !strings.HasSuffix(f[0], ":"): // a mapping's maps line
			_, _, in = tableMapping(line, dir)
		case in && f[0] == "Rss:" && len(f) >= 2:
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			sum += kb << 10
		}
	}
	return sum
}

// TestMappedPath checks that the trimmer looks for the data directory under
// the name the kernel gives it in /proc/self/maps, even when it was opened
// by a relative path through a symbolic link.
func TestMappedPath(t *testing.T) {
	base, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(base, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("data", filepath.Join(base, "link")); err != nil {
		t.Fatal(err)
	}
	t.Chdir(base)
	if got, want := mappedPath("link"), filepath.Join(base, "data"); got != want {
		t.Errorf("mappedPath(%q) = %q, want %q", "link", got, want)
	}
}

// TestTrimTables writes enough attempts for Badger to build tables, which it
// writes through their mappings, and checks that trimTables pages them out
// and that every attempt is still there afterwards.
func TestTrimTables(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Stop the database's own trimmer, which would race the measurement.
	close(db.trimStop)
	<-db.trimDone
	db.trimStop = nil
	const n = 40000
	end := time.Now()
	batch := make([]Attempt, 0, 500)
	for i := range n {
		batch = append(batch, benchAttempt(i, n, end))
		if len(batch) == cap(batch) {
			if err := db.PutAttempts(batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	// Tables are built in the background; wait for some to be resident.
	abs := mappedPath(dir)
	deadline := time.Now().Add(10 * time.Second)
	before := tableRSS(t, abs)
	for before < 1<<20 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		before = tableRSS(t, abs)
	}
	if before < 1<<20 {
		t.Fatalf("tables resident = %d bytes after writing %d attempts; want some to page out", before, n)
	}
	advised, err := trimTables(abs)
	if err != nil {
		t.Fatal(err)
	}
	after := tableRSS(t, abs)
	if advised == 0 || after > before/2 {
		t.Errorf("trimTables advised %d bytes; table RSS %d -> %d, want at most half", advised, before, after)
	}
	c, err := db.AttemptCount()
	if err != nil {
		t.Fatal(err)
	}
	if c != n {
		t.Errorf("after trimming, %d attempts, want %d", c, n)
	}
	p, err := db.Search(Query{Limit: 100})
	if err != nil || len(p.Attempts) != 100 {
		t.Fatalf("Search after trimming: %d attempts, %v", len(p.Attempts), err)
	}
}

package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

func openTest(t *testing.T, dir string) *DB {
	t.Helper()
	db, err := Open(dir, nil)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

func TestOpenCloseTwice(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "data")
	for i := range 2 {
		db, err := Open(dir, nil)
		if err != nil {
			t.Fatalf("Open #%d: %v", i+1, err)
		}
		if got := db.Dir(); got != dir {
			t.Errorf("Dir() = %q, want %q", got, dir)
		}
		if err := db.Close(); err != nil {
			t.Fatalf("Close #%d: %v", i+1, err)
		}
		if err := db.Close(); err != nil {
			t.Errorf("second Close #%d = %v, want nil", i+1, err)
		}
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fi.Mode().Perm(), os.FileMode(0o700); got != want {
		t.Errorf("data directory mode = %v, want %v", got, want)
	}
}

func TestMethodsAfterClose(t *testing.T) {
	db, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	a := Attempt{ID: NewAttemptID(time.Now()), Status: StatusOK}
	tests := []struct {
		name string
		call func() error
	}{
		{"PutConfig", func() error { return db.PutConfig("target", "t1", []byte(`{}`)) }},
		{"DeleteConfig", func() error { return db.DeleteConfig("target", "t1") }},
		{"ApplyConfig", func() error { return db.ApplyConfig([]ConfigChange{{Kind: "k", ID: "i"}}) }},
		{"Config", func() error { _, err := db.Config("target"); return err }},
		{"PutAttempt", func() error { return db.PutAttempt(a) }},
		{"PutAttemptDurable", func() error { return db.PutAttemptDurable(a) }},
		{"Attempt", func() error { _, _, err := db.Attempt(a.ID); return err }},
		{"Attempts", func() error { _, err := db.Attempts(Query{}); return err }},
		{"PutAttempts", func() error { return db.PutAttempts([]Attempt{a}) }},
		{"PutAttemptsDurable", func() error { return db.PutAttemptsDurable([]Attempt{a}) }},
		{"Search", func() error { _, err := db.Search(Query{}); return err }},
		{"TargetStats", func() error { _, err := db.TargetStats("t"); return err }},
		{"AllTargetStats", func() error { _, err := db.AllTargetStats(); return err }},
		{"AttemptCount", func() error { _, err := db.AttemptCount(); return err }},
		{"WriteCSV", func() error { return db.WriteCSV(io.Discard, Query{}) }},
		{"WriteJSONLines", func() error { return db.WriteJSONLines(io.Discard, Query{}) }},
		{"Expire", func() error { _, err := db.Expire(context.Background(), time.Now(), Retention{Days: 1}); return err }},
		{"CollectGarbage", db.CollectGarbage},
	}
	for _, tt := range tests {
		if err := tt.call(); !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", tt.name, err)
		}
	}
}

// setRaw writes key=value into dir with Badger directly, bypassing Open.
func setRaw(t *testing.T, dir, key, value string) {
	t.Helper()
	bdb, err := badger.Open(options(dir, slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	err = bdb.Update(func(txn *badger.Txn) error { return txn.Set([]byte(key), []byte(value)) })
	if err != nil {
		t.Fatal(err)
	}
}

// rawKeys returns every key=value in dir, read with Badger directly.
func rawKeys(t *testing.T, dir string) map[string]string {
	t.Helper()
	bdb, err := badger.Open(options(dir, slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	kv := make(map[string]string)
	err = bdb.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.DefaultIteratorOptions)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			kv[string(it.Item().Key())] = string(v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return kv
}

func TestOpenWritesSchema(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if got, want := rawKeys(t, dir)[string(schemaKey)], strconv.Itoa(SchemaVersion); got != want {
		t.Errorf("schema version = %q, want %q", got, want)
	}
}

func TestOpenRefusesSchema(t *testing.T) {
	tests := []struct {
		name    string
		key     string
		value   string
		wantIs  error
		wantMsg string
	}{
		{"newer", string(schemaKey), strconv.Itoa(SchemaVersion + 1), ErrNewerSchema,
			fmt.Sprintf("schema version %d is newer than %d", SchemaVersion+1, SchemaVersion)},
		{"garbage", string(schemaKey), "two", nil, `unreadable schema version "two"`},
		{"foreign data", "somebody/else", "x", nil, "not a Buttonhook data directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.key == string(schemaKey) {
				// A real data directory first, with a document in it.
				db := openTestNoCleanup(t, dir)
				if err := db.PutConfig("target", "t1", []byte(`{"n":1}`)); err != nil {
					t.Fatal(err)
				}
				db.Close()
			}
			setRaw(t, dir, tt.key, tt.value)
			before := rawKeys(t, dir)

			db, err := Open(dir, nil)
			if err == nil {
				db.Close()
				t.Fatalf("Open succeeded, want an error")
			}
			t.Logf("Open error: %v", err)
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("Open error = %v, want one wrapping %v", err, tt.wantIs)
			}
			for _, want := range []string{dir, tt.wantMsg} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Open error = %q, want it to contain %q", err, want)
				}
			}
			after := rawKeys(t, dir)
			if fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("refused Open changed the data:\n got %v\nwant %v", after, before)
			}
		})
	}
}

func openTestNoCleanup(t *testing.T, dir string) *DB {
	t.Helper()
	db, err := Open(dir, nil)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	return db
}

func TestOpenBadDirectory(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T) string // returns the dir to open
	}{
		{"empty path", func(t *testing.T) string { return "" }},
		{"regular file", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "file")
			writeFile(t, p, "not a directory")
			return p
		}},
		{"below a regular file", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "file")
			writeFile(t, p, "not a directory")
			return filepath.Join(p, "data")
		}},
		{"garbage MANIFEST", func(t *testing.T) string {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "MANIFEST"), strings.Repeat("garbage ", 100))
			return dir
		}},
		{"garbage KEYREGISTRY", func(t *testing.T) string {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "KEYREGISTRY"), strings.Repeat("garbage ", 100))
			return dir
		}},
		{"unwritable", func(t *testing.T) string {
			if os.Geteuid() == 0 {
				t.Skip("root can write anywhere")
			}
			dir := t.TempDir()
			if err := os.Chmod(dir, 0o500); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Chmod(dir, 0o700) })
			return filepath.Join(dir, "data")
		}},
		{"read-only directory", func(t *testing.T) string {
			if os.Geteuid() == 0 {
				t.Skip("root can write anywhere")
			}
			dir := t.TempDir()
			if err := os.Chmod(dir, 0o500); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Chmod(dir, 0o700) })
			return dir
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tt.setup(t)
			db, err := Open(dir, nil)
			if err == nil {
				db.Close()
				t.Fatalf("Open(%q) succeeded, want an error", dir)
			}
			t.Logf("Open error: %v", err)
			if !strings.Contains(err.Error(), dir) {
				t.Errorf("Open(%q) error = %q, want it to name the directory", dir, err)
			}
			if errors.Is(err, ErrLocked) {
				t.Errorf("Open(%q) error = %q, wrongly wraps ErrLocked", dir, err)
			}
		})
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func checkLocked(t *testing.T, dir string) {
	t.Helper()
	db, err := Open(dir, nil)
	if err == nil {
		db.Close()
		t.Fatalf("second Open of %s succeeded, want ErrLocked", dir)
	}
	t.Logf("Open error: %v", err)
	if !errors.Is(err, ErrLocked) {
		t.Errorf("second Open error = %v, want one wrapping ErrLocked", err)
	}
	if want := "open " + dir + ": data directory is in use by another Buttonhook instance"; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("second Open error = %q, want it to start with %q", err, want)
	}
}

func TestOpenLockedInProcess(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t, dir)
	checkLocked(t, dir)
	// The refused Open must not have disturbed the first one.
	if err := db.PutConfig("target", "t1", []byte(`{}`)); err != nil {
		t.Errorf("PutConfig after a refused Open: %v", err)
	}
}

func TestOpenLockedByOtherProcess(t *testing.T) {
	dir := t.TempDir()
	cmd, stdin, stdout := startChild(t, "hold", dir)
	if !stdout.Scan() || stdout.Text() != "ready" {
		t.Fatalf("child did not open %s: %q %v", dir, stdout.Text(), stdout.Err())
	}
	checkLocked(t, dir)

	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	db, err := Open(dir, nil)
	if err != nil {
		t.Fatalf("Open after the other process closed: %v", err)
	}
	db.Close()
}

func TestReopenKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	db := openTestNoCleanup(t, dir)
	configs := map[string][]byte{"t1": []byte(`{"name":"one"}`), "t2": []byte(`{"name":"two"}`)}
	for id, data := range configs {
		if err := db.PutConfig("target", id, data); err != nil {
			t.Fatal(err)
		}
	}
	want := makeAttempts(t, 20, time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC))
	for _, a := range want {
		if err := db.PutAttempt(a); err != nil { // unsynced: Close must flush it
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openTest(t, dir)
	gotConfigs, err := db.Config("target")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprintf("%s", gotConfigs) != fmt.Sprintf("%s", configs) {
		t.Errorf("config after reopen = %s, want %s", gotConfigs, configs)
	}
	got, err := db.Attempts(Query{})
	if err != nil {
		t.Fatal(err)
	}
	checkAttempts(t, got, reversed(want))
}

func TestBadgerLogger(t *testing.T) {
	var buf bytes.Buffer
	l := badgerLogger{slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	l.Errorf("bad %d\n", 1)
	l.Warningf("careful %s\n", "now")
	l.Infof("chatter")
	l.Debugf("more chatter")
	got := buf.String()
	for _, want := range []string{`level=ERROR msg=badger detail="bad 1"`, `level=WARN msg=badger detail="careful now"`} {
		if !strings.Contains(got, want) {
			t.Errorf("log = %q, want it to contain %q", got, want)
		}
	}
	if strings.Contains(got, "chatter") {
		t.Errorf("log = %q, want info and debug dropped", got)
	}
}

func TestWritesSyncOnlyWhenDurable(t *testing.T) {
	db := openTest(t, t.TempDir())
	var syncs int
	realSync := db.sync
	db.sync = func() error { syncs++; return realSync() }

	a := Attempt{ID: NewAttemptID(time.Now()), Status: StatusWaiting}
	tests := []struct {
		name      string
		write     func() error
		wantSyncs int
	}{
		{"PutAttempt", func() error { return db.PutAttempt(a) }, 0},
		{"PutAttemptDurable", func() error { return db.PutAttemptDurable(a) }, 1},
		{"PutConfig", func() error { return db.PutConfig("k", "i", []byte(`1`)) }, 1},
		{"DeleteConfig", func() error { return db.DeleteConfig("k", "i") }, 1},
		{"ApplyConfig", func() error {
			return db.ApplyConfig([]ConfigChange{{Kind: "k", ID: "a", Data: []byte(`1`)}, {Kind: "k", ID: "b", Data: []byte(`2`)}})
		}, 1},
	}
	for _, tt := range tests {
		syncs = 0
		if err := tt.write(); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if syncs != tt.wantSyncs {
			t.Errorf("%s synced %d times, want %d", tt.name, syncs, tt.wantSyncs)
		}
	}
}

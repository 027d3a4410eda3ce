package storage

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// schema1Options are the Badger options that version 1 used: Snappy on 4 KB
// blocks, 8 MB memtables, Badger's table sizes.
func schema1Options(dir string) badger.Options {
	return badger.DefaultOptions(dir).WithLogger(nil).WithMemTableSize(8 << 20).WithNumMemtables(2).
		WithNumLevelZeroTables(2).WithNumLevelZeroTablesStall(4).WithBlockCacheSize(4 << 20).
		WithIndexCacheSize(2 << 20).WithValueLogFileSize(64 << 20).WithNumCompactors(2).
		WithValueThreshold(MaxValueSize + 1).WithDetectConflicts(false).WithMetricsEnabled(false)
}

// writeSchema1 writes a data directory as version 1 laid it out (no
// indexes, no counters of targets; its Badger options), with extra raw keys,
// straight through Badger.
func writeSchema1(t *testing.T, dir string, as []Attempt, extra map[string]string) {
	t.Helper()
	bdb, err := badger.Open(schema1Options(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	wb := bdb.NewWriteBatch()
	set := func(k string, v []byte) {
		if err := wb.Set([]byte(k), v); err != nil {
			t.Fatal(err)
		}
	}
	set("m/schema", []byte("1"))
	set("c/target/t1", []byte(`{"name":"Lights on"}`))
	set("n/serial:A/1", []byte(`{"all":5,"press":5}`))
	for _, a := range as {
		// Version 1 had none of the fields added since; zero, they are
		// left out of the JSON, as version 1 wrote it.
		data, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		set("a/"+a.ID, data)
	}
	for k, v := range extra {
		set(k, []byte(v))
	}
	if err := wb.Flush(); err != nil {
		t.Fatal(err)
	}
}

func TestMigrateFromSchema1(t *testing.T) {
	dir := t.TempDir()
	as := makeAttempts(t, 1234, time.Date(2024, 12, 1, 0, 0, 0, 0, time.UTC)) // several batches
	for i := range as {
		switch i % 4 {
		case 1:
			as[i].TargetID, as[i].TargetName, as[i].Status, as[i].Code = "t2", "Gate", StatusFailed, 500
		case 2:
			as[i].Status, as[i].Code, as[i].Finished = StatusWaiting, 0, time.Time{}
		}
	}
	// Leftovers of an interrupted migration, all wrong: they must go.
	stale := map[string]string{
		statusIndexPrefix(StatusWaiting) + as[0].ID: "Wt1",
		statsPrefix + "t1":                          `{"attempts":99999}`,
		string(countKey):                            "7",
	}
	writeSchema1(t, dir, as, stale)

	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	db, err := Open(dir, logger)
	if err != nil {
		t.Fatalf("Open of a schema 1 directory: %v", err)
	}
	if !strings.Contains(logs.String(), "migrated data directory") {
		t.Errorf("log = %q, want the migration logged", logs.String())
	}
	checkIndexes(t, db, true)

	for _, q := range []Query{
		{TargetID: "t2"},
		{Status: StatusWaiting, Limit: 100},
		{TargetID: "t1", Status: StatusOK, Sort: SortCode, Ascending: true},
		{Sort: SortTarget, Limit: MaxLimit},
	} {
		got, _ := searchAll(t, db, q)
		checkAttempts(t, got, reference(as, q))
	}
	s, err := db.TargetStats("t2")
	if want := (Stats{Attempts: 309, Failed: 309, LastTriggered: as[1233].Time}); err != nil || s != want {
		t.Errorf("TargetStats(t2) = %+v, %v; want %+v", s, err, want)
	}
	if n, err := db.AttemptCount(); err != nil || n != int64(len(as)) {
		t.Errorf("AttemptCount = %d, %v; want %d", n, err, len(as))
	}
	if c, err := db.Counts("serial:A", 1); err != nil || c != (Counts{All: 5, Press: 5}) {
		t.Errorf("press counters after migration = %+v, %v", c, err)
	}
	if docs, err := db.Config("target"); err != nil || string(docs["t1"]) != `{"name":"Lights on"}` {
		t.Errorf("config after migration = %q, %v", docs, err)
	}
	// New writes keep the migrated indexes right.
	a := as[2]
	a.Status, a.Code = StatusOK, 204
	if err := db.PutAttemptDurable(a); err != nil {
		t.Fatal(err)
	}
	checkIndexes(t, db, true)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := rawKeys(t, dir)[string(schemaKey)], strconv.Itoa(SchemaVersion); got != want {
		t.Errorf("schema after migration = %q, want %q", got, want)
	}

	// The second Open has nothing to migrate.
	logs.Reset()
	db, err = Open(dir, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if strings.Contains(logs.String(), "migrated") {
		t.Errorf("second Open migrated again: %q", logs.String())
	}
}

func TestMigrateEmptySchema1(t *testing.T) {
	dir := t.TempDir()
	writeSchema1(t, dir, nil, nil)
	db := openTest(t, dir)
	if n, err := db.AttemptCount(); err != nil || n != 0 {
		t.Errorf("AttemptCount = %d, %v; want 0", n, err)
	}
	checkIndexes(t, db, true)
}

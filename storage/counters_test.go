package storage

import "testing"

func TestCountsSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := db.Counts("serial:A", 1); err != nil || c != (Counts{}) {
		t.Fatalf("counts of a new button = %+v, %v; want zero", c, err)
	}
	want := Counts{All: 3, Press: 2, Double: 1}
	if err := db.PutCounts("serial:A", 1, want); err != nil {
		t.Fatal(err)
	}
	if err := db.PutCounts("serial:A", 2, Counts{All: 9}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if c, err := db.Counts("serial:A", 1); err != nil || c != want {
		t.Errorf("after reopening: %+v, %v; want %+v", c, err, want)
	}
	if c, _ := db.Counts("serial:A", 2); c.All != 9 {
		t.Errorf("button 2 = %+v, want All 9 (buttons counted apart)", c)
	}
}

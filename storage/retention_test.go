package storage

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestExpire(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	day := func(d int) time.Time { return now.AddDate(0, 0, -d) }
	tests := []struct {
		name string
		r    Retention
		keep func(age int) bool // by age in days of the attempts written below
	}{
		{"nothing", Retention{}, func(int) bool { return true }},
		{"days", Retention{Days: 90}, func(age int) bool { return age < 90 }},
		{"max", Retention{MaxAttempts: 25}, func(age int) bool { return age < 25 }},
		{"days and max", Retention{Days: 10, MaxAttempts: 25}, func(age int) bool { return age < 10 }},
		{"max and days", Retention{Days: 60, MaxAttempts: 3}, func(age int) bool { return age < 3 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openTest(t, t.TempDir())
			var all []Attempt
			for age := range 200 { // one attempt a day, a minute before this time of day
				at := day(age).Add(-time.Minute)
				a := Attempt{ID: NewAttemptID(at), Time: at, TargetID: "t1", Status: StatusOK}
				if age%5 == 0 {
					a.TargetID, a.Status = "t2", StatusFailed
				}
				all = append(all, a)
			}
			if err := db.PutAttempts(all); err != nil {
				t.Fatal(err)
			}
			before, err := db.AllTargetStats()
			if err != nil {
				t.Fatal(err)
			}

			n, err := db.Expire(context.Background(), now, tt.r)
			if err != nil {
				t.Fatal(err)
			}
			var want []Attempt
			for age, a := range all {
				if tt.keep(age) {
					want = append(want, a)
				}
			}
			if n != len(all)-len(want) {
				t.Errorf("Expire deleted %d, want %d", n, len(all)-len(want))
			}
			got, err := db.Attempts(Query{Limit: MaxLimit})
			if err != nil {
				t.Fatal(err)
			}
			checkAttempts(t, got, want) // all is newest first already
			checkIndexes(t, db, false)
			after, _ := db.AllTargetStats()
			if after["t1"] != before["t1"] || after["t2"] != before["t2"] {
				t.Errorf("stats after expiry = %+v, want unchanged %+v", after, before)
			}
			// A second run finds nothing more.
			if n, err := db.Expire(context.Background(), now, tt.r); err != nil || n != 0 {
				t.Errorf("second Expire = %d, %v; want 0, nil", n, err)
			}
		})
	}
}

func TestExpireCancelled(t *testing.T) {
	db := openTest(t, t.TempDir())
	as := makeAttempts(t, 100, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))
	if err := db.PutAttempts(as); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if n, err := db.Expire(ctx, time.Now(), DefaultRetention); !errors.Is(err, context.Canceled) || n != 0 {
		t.Errorf("Expire(cancelled) = %d, %v; want 0, context.Canceled", n, err)
	}
	if n, _ := db.AttemptCount(); n != 100 {
		t.Errorf("%d attempts after a cancelled expiry, want 100", n)
	}
}

func TestRunMaintenance(t *testing.T) {
	db, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	old := makeAttempts(t, 50, time.Now().UTC().Round(0).AddDate(0, 0, -100))
	if err := db.PutAttempts(old); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- db.RunMaintenance(ctx, Maintenance{Retention: DefaultRetention, Interval: 10 * time.Millisecond})
	}()

	// Attempts that become too old while it runs go at a later run.
	recent := makeAttempts(t, 5, time.Now().UTC().Round(0).AddDate(0, 0, -1))
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, err := db.AttemptCount()
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d attempts left after 5 s of maintenance, want 0", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := db.PutAttempts(recent); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // several runs
	got, err := db.Attempts(Query{})
	if err != nil {
		t.Fatal(err)
	}
	checkAttempts(t, got, reversed(recent))

	cancel()
	if err := <-done; err != nil {
		t.Errorf("RunMaintenance after cancel = %v, want nil", err)
	}

	// After Close it stops with ErrClosed.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	err = db.RunMaintenance(context.Background(), Maintenance{Retention: DefaultRetention})
	if !errors.Is(err, ErrClosed) {
		t.Errorf("RunMaintenance after Close = %v, want ErrClosed", err)
	}
	if err := db.CollectGarbage(); !errors.Is(err, ErrClosed) {
		t.Errorf("CollectGarbage after Close = %v, want ErrClosed", err)
	}
}

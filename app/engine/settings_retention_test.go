package engine

import (
	"context"
	"maps"
	"slices"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/buttonhook/buttonhook/storage"
)

// maintStore is a Store in memory that records the runs of RunMaintenance.
// It has only what New, Run and SetSettings use: any other call panics on
// the nil Store it embeds.
type maintStore struct {
	Store
	mu      sync.Mutex
	docs    map[string]map[string][]byte
	runs    []storage.Retention // every RunMaintenance, in order
	running int                 // runs not yet returned
}

func (s *maintStore) Config(kind string) (map[string][]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.docs[kind]), nil
}

func (s *maintStore) ApplyConfig(changes []storage.ConfigChange) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.docs == nil {
		s.docs = map[string]map[string][]byte{}
	}
	for _, c := range changes {
		if s.docs[c.Kind] == nil {
			s.docs[c.Kind] = map[string][]byte{}
		}
		if c.Data == nil {
			delete(s.docs[c.Kind], c.ID)
		} else {
			s.docs[c.Kind][c.ID] = c.Data
		}
	}
	return nil
}

func (s *maintStore) Attempts(storage.Query) ([]storage.Attempt, error) { return nil, nil }

func (s *maintStore) RunMaintenance(ctx context.Context, m storage.Maintenance) error {
	s.mu.Lock()
	s.runs = append(s.runs, m.Retention)
	s.running++
	s.mu.Unlock()
	<-ctx.Done()
	s.mu.Lock()
	s.running--
	s.mu.Unlock()
	return nil
}

func (s *maintStore) state() ([]storage.Retention, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.runs), s.running
}

// TestMaintenanceRestartsWithNewRetention checks the maintenance's
// lifecycle: one run at a time, started with the stored retention, replaced
// by a run with the new one on each change (several quick changes may end
// in one run with the last), and none left when Run returns.
func TestMaintenanceRestartsWithNewRetention(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := &maintStore{}
		e, err := New(Options{Store: st})
		if err != nil {
			t.Fatal(err)
		}
		// Set before Run: Run starts with it.
		if err := e.SetSettings(Settings{Log: LogSettings{KeepDays: 30}}); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- e.Run(ctx) }()
		synctest.Wait()
		check := func(what string, want ...storage.Retention) {
			t.Helper()
			runs, running := st.state()
			if !slices.Equal(runs, want) || running != 1 {
				t.Errorf("%s: runs %+v (%d running), want %+v with one running", what, runs, running, want)
			}
		}
		check("at Run", storage.Retention{Days: 30})

		if err := e.SetSettings(Settings{Log: LogSettings{KeepDays: 7, MaxAttempts: 1000}}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		check("after a change", storage.Retention{Days: 30}, storage.Retention{Days: 7, MaxAttempts: 1000})

		// Saving the same settings, or other config, restarts nothing.
		if err := e.SetSettings(Settings{Log: LogSettings{KeepDays: 7, MaxAttempts: 1000}}); err != nil {
			t.Fatal(err)
		}
		if err := e.AddSerialPort("/dev/ttyACM9"); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		check("after saving the same", storage.Retention{Days: 30}, storage.Retention{Days: 7, MaxAttempts: 1000})

		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		if runs, running := st.state(); running != 0 || len(runs) != 2 {
			t.Errorf("after Run returned: %d runs, %d running; want 2 and none", len(runs), running)
		}
	})
}

package server

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/buttonhook/buttonhook/actions"
	"github.com/buttonhook/buttonhook/app/engine"
	"github.com/buttonhook/buttonhook/storage"
)

func TestControlSocket(t *testing.T) {
	dir := t.TempDir()
	db, err := storage.Open(filepath.Join(dir, "db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	e, err := engine.New(engine.Options{Store: db})
	if err != nil {
		t.Fatal(err)
	}
	a := storage.Attempt{ID: storage.NewAttemptID(time.Now()), Time: time.Now(), TargetName: "Door", URL: "http://127.0.0.1/door", Status: storage.StatusOK, Code: 200}
	if err := db.PutAttemptDurable(a); err != nil {
		t.Fatal(err)
	}

	sock := SocketPath(dir)
	if err := os.MkdirAll(filepath.Dir(sock), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sock, []byte("stale"), 0o600); err != nil { // left by a crashed instance
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- ServeControl(ctx, sock, ControlHandler(e)) }()
	c := NewClient(dir)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := c.Devices(); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("control socket never answered: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	if fi, err := os.Stat(filepath.Dir(sock)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("socket directory mode = %v, %v; want 0700", fi.Mode().Perm(), err)
	}

	err = c.Import(engine.Config{Targets: []actions.Target{{Name: "Door", Method: "GET", URL: "http://127.0.0.1/"}}})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := c.Export()
	if err != nil || len(cfg.Targets) != 1 || cfg.Targets[0].Name != "Door" || cfg.Targets[0].Version != 1 {
		t.Fatalf("Export = %+v, %v", cfg, err)
	}
	err = c.Import(engine.Config{Targets: []actions.Target{{Name: "Bad", Method: "GET", URL: "ftp://x"}}})
	if err == nil || !strings.Contains(err.Error(), "targets[0].url") {
		t.Errorf("bad import error = %v, want the problem's path", err)
	}
	page, err := c.Search(storage.Query{Limit: 10, Status: storage.StatusOK, From: a.Time.Add(-time.Minute), Text: "127.0.0.1"})
	if err != nil || len(page.Attempts) != 1 || page.Attempts[0].ID != a.ID || page.Attempts[0].Code != 200 {
		t.Errorf("Search = %+v, %v", page, err)
	}
	if page, err := c.Search(storage.Query{Status: storage.StatusFailed}); err != nil || len(page.Attempts) != 0 {
		t.Errorf("Search for failed = %+v, %v; want none", page, err)
	}
	var csv strings.Builder
	if err := c.ExportLog(&csv, storage.Query{}, "csv"); err != nil || strings.Count(csv.String(), "\n") != 2 || !strings.Contains(csv.String(), a.ID) {
		t.Errorf("ExportLog csv = %q, %v; want a header and one row", csv.String(), err)
	}
	if _, err := c.Search(storage.Query{Sort: "colour"}); err == nil {
		t.Errorf("a bad sort was accepted")
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("ServeControl: %v", err)
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("socket left behind after stop: %v", err)
	}
	if _, err := c.Devices(); err == nil {
		t.Errorf("client still answered after the server stopped")
	}
}

// brokenExport is an engine whose CSV export fails after its first line.
type brokenExport struct{ *engine.Engine }

func (brokenExport) WriteCSV(w io.Writer, _ storage.Query) error {
	io.WriteString(w, "id,time\n")
	return errors.New("disk read error")
}

func TestExportFailureReachesTheClient(t *testing.T) {
	dir := t.TempDir()
	db, err := storage.Open(filepath.Join(dir, "db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	e, err := engine.New(engine.Options{Store: db})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go ServeControl(ctx, SocketPath(dir), ControlHandler(brokenExport{e}))
	c := NewClient(dir)
	var out strings.Builder
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		out.Reset()
		err = c.ExportLog(&out, storage.Query{}, "csv")
		if err == nil || strings.Contains(err.Error(), "export stopped") || time.Now().After(deadline) {
			break
		}
	}
	if err == nil || !strings.Contains(err.Error(), "disk read error") || out.String() != "id,time\n" {
		t.Errorf("ExportLog = %q, %v; want the first line and the error", out.String(), err)
	}
}

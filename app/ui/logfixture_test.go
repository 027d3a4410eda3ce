package ui

import (
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/buttonhook/buttonhook/actions"
	"github.com/buttonhook/buttonhook/app/engine"
	"github.com/buttonhook/buttonhook/device"
	"github.com/buttonhook/buttonhook/storage"
)

// inlineScheduler does everything at once on the caller's goroutine: the
// test's, which is the UI goroutine under Fyne's test driver.
func inlineScheduler() scheduler {
	return scheduler{
		background: func(work func() func()) { work()() },
		after:      func(_ time.Duration, f func()) func() { f(); return func() {} },
	}
}

// logFixture is a window over an engine whose store holds two targets,
// Door and Gate, and the attempts a test puts in it.
type logFixture struct {
	w          *Window
	e          *engine.Engine
	db         *storage.DB
	door, gate string // target IDs
}

func newLogFixture(t *testing.T) *logFixture {
	t.Helper()
	w, e, db := openWindow(t, engine.Options{Drivers: []device.Driver{}})
	for _, name := range []string{"Door", "Gate"} {
		if err := e.SaveTarget(actions.Target{Name: name, Enabled: true, Method: "POST", URL: "http://127.0.0.1/" + strings.ToLower(name)}); err != nil {
			t.Fatal(err)
		}
	}
	w.readState() // the targets, as the window reads them at start
	f := &logFixture{w: w, e: e, db: db}
	for _, tg := range e.Config().Targets {
		switch tg.Name {
		case "Door":
			f.door = tg.ID
		case "Gate":
			f.gate = tg.ID
		}
	}
	return f
}

// attempt makes an attempt of target id (Door or Gate) pressed ago before now.
func (f *logFixture) attempt(target string, ago time.Duration, status storage.Status, code int) storage.Attempt {
	name := "Door"
	if target == f.gate {
		name = "Gate"
	}
	at := time.Now().Add(-ago)
	a := storage.Attempt{
		ID: storage.NewAttemptID(at), Time: at, TargetID: target, TargetName: name, TargetVersion: 1,
		DeviceID: "SIM-1", DeviceName: "Sim", Button: 1, Gesture: "press",
		Method: "POST", URL: "http://127.0.0.1/" + strings.ToLower(name), Status: status, Code: code,
		Duration: time.Duration(code) * time.Millisecond, Tries: 1,
	}
	if status == storage.StatusFailed {
		a.ErrorClass, a.Error = storage.ErrorHTTP, fmt.Sprintf("HTTP %d from the server", code)
		if code == 0 {
			a.ErrorClass, a.Error = storage.ErrorNetwork, "connection refused"
		}
	}
	if status != storage.StatusWaiting {
		a.Finished = at.Add(a.Duration)
	}
	return a
}

// put stores as and shows the log again, as the window does at start.
func (f *logFixture) put(t *testing.T, as ...storage.Attempt) {
	t.Helper()
	if err := f.db.PutAttempts(as); err != nil {
		t.Fatal(err)
	}
	f.w.readState()
	f.w.logs.reload()
}

// seed puts ten attempts: Door 4 OK and 2 Failed (500, 502), Gate 3 OK and
// 1 Failed (no response), plus a Door OK of 40 days ago.
func (f *logFixture) seed(t *testing.T) {
	t.Helper()
	var as []storage.Attempt
	for i, code := range []int{200, 201, 204, 200} {
		as = append(as, f.attempt(f.door, time.Duration(10+i)*time.Minute, storage.StatusOK, code))
	}
	as = append(as, f.attempt(f.door, 20*time.Minute, storage.StatusFailed, 500), f.attempt(f.door, 21*time.Minute, storage.StatusFailed, 502))
	for i := range 3 {
		as = append(as, f.attempt(f.gate, time.Duration(30+i)*time.Minute, storage.StatusOK, 202))
	}
	as = append(as, f.attempt(f.gate, 40*time.Minute, storage.StatusFailed, 0))
	as = append(as, f.attempt(f.door, 40*24*time.Hour, storage.StatusOK, 200))
	f.put(t, as...)
}

func summary(rows []storage.Attempt) string {
	var out []string
	for _, a := range rows {
		out = append(out, fmt.Sprintf("%s/%s/%d", a.TargetName, a.Status, a.Code))
	}
	return strings.Join(out, " ")
}

// header returns the header button of column title, as the table shows it.
func header(t *testing.T, v *logView, title string) *widget.Button {
	t.Helper()
	col := slices.IndexFunc(logColumns, func(c logColumn) bool { return c.title == title })
	o := v.table.CreateHeader()
	v.table.UpdateHeader(widget.TableCellID{Row: -1, Col: col}, o)
	return o.(*widget.Button)
}

// texts returns the texts of the labels and the lines of the rich texts
// under o.
func texts(o fyne.CanvasObject) string {
	var out []string
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch o := o.(type) {
		case *widget.Label:
			out = append(out, o.Text)
		case *widget.RichText:
			for _, s := range o.Segments {
				if t, ok := s.(*widget.TextSegment); ok {
					out = append(out, t.Text)
				}
			}
		case *fyne.Container:
			for _, c := range o.Objects {
				walk(c)
			}
		}
	}
	walk(o)
	return strings.Join(out, "\n")
}

// TestMainScreenshot renders the main window with a filled log and an
// attempt's details to main-log.png in $BUTTONHOOK_SHOTS (docs/screenshot.png).
func TestMainScreenshot(t *testing.T) {
	dir := os.Getenv("BUTTONHOOK_SHOTS")
	if dir == "" {
		t.Skip("set BUTTONHOOK_SHOTS to a directory to render the window")
	}
	f := newLogFixture(t)
	fyne.CurrentApp().Settings().SetTheme(theme.DarkTheme())
	var as []storage.Attempt
	for i := range 14 {
		target, status, code := f.door, storage.StatusOK, 200
		switch i % 5 {
		case 1:
			target, code = f.gate, 202
		case 3:
			target, status, code = f.gate, storage.StatusFailed, 503
		}
		a := f.attempt(target, time.Duration(i*17+3)*time.Minute, status, code)
		a.Duration = time.Duration(40+i*13) * time.Millisecond
		a.RequestHeaders = "Authorization, Content-Type"
		a.Timing = storage.Timing{Connect: 3 * time.Millisecond, FirstByte: a.Duration - 4*time.Millisecond, Total: a.Duration}
		if status == storage.StatusFailed {
			a.Response = `{"error":"service unavailable, retry later"}`
		} else {
			a.Response = `{"ok":true}`
		}
		as = append(as, a)
	}
	f.put(t, as...)
	f.w.logs.table.Select(widget.TableCellID{Row: 3, Col: 0})
	f.w.setStatus("Gate: Failed HTTP 503, in 79ms, HTTP 503 from the server")
	out, err := os.Create(filepath.Join(dir, "main-log.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if err := png.Encode(out, f.w.Canvas().Capture()); err != nil {
		t.Fatal(err)
	}
}

package ui

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/buttonhook/buttonhook/app/engine"
	"github.com/buttonhook/buttonhook/app/server"
)

// ServerEngine is what the window needs of the engine for the local
// server's parts: the API keys and the dynamic URLs it set.
type ServerEngine interface {
	CreateAPIKey(name string, targets []string, all bool) (key string, k engine.APIKey, err error)
	APIKeys() []engine.APIKey
	RevokeAPIKey(idOrName string) error
	DynamicURL(targetID string) (engine.DynamicURL, error)
}

// Server is what the window needs of the local HTTP server (async
// callbacks, the REST API, the request inspector).
type Server interface {
	Status() server.Status
	Inspector() *server.Inspector
}

var _ Server = (*server.Local)(nil)

// serverPoll is how often an open dialog reads the server's status again:
// the server follows the settings on its own, a moment after they change.
const serverPoll = time.Second

// SetServer gives the window the local server, whose status the Settings
// dialog and the target editor show and whose requests the inspector
// lists. Without one (tests), they say that no server runs here.
func (w *Window) SetServer(s Server) { w.srv = s }

// serverStatus is the server's status, and whether the window has a server.
func (w *Window) serverStatus() (server.Status, bool) {
	if w.srv == nil {
		return server.Status{}, false
	}
	return w.srv.Status(), true
}

// describeServer says what the server is doing, and for a server that
// cannot run, why and what to do.
func describeServer(st server.Status, ok bool) (string, widget.Importance) {
	switch {
	case !ok:
		return "No local server runs with this window.", widget.MediumImportance
	case st.State == server.StateRunning:
		text := fmt.Sprintf("● Running at %s since %s, because %s.", st.URL, st.Since.Local().Format("15:04"), st.Reason)
		if st.LAN {
			text += " It listens on the local network."
		}
		return text, widget.SuccessImportance
	case st.State == server.StateFailed:
		return fmt.Sprintf("✕ Cannot run: %s. It tries again every 15 seconds and after each change; the rest of Buttonhook keeps working.", st.Error), widget.DangerImportance
	}
	return "○ Off: " + st.Reason + ".", widget.MediumImportance
}

// serverBase is the base URL the server is reached at: while it runs, its
// own; else the one the settings give it when it starts (on the local
// network, its address is known only then), and false.
func (w *Window) serverBase() (string, bool) {
	if st, ok := w.serverStatus(); ok && st.State == server.StateRunning {
		return st.URL, true
	}
	s := w.eng.Settings().Server
	if s.PublicURL != "" {
		return s.PublicURL, false
	}
	scheme := "http"
	if s.HTTPS {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)), false
}

// poll calls f now, then every d on the UI goroutine until stop is called
// (on the UI goroutine too).
func (w *Window) poll(d time.Duration, f func()) (stop func()) {
	var (
		stopped, arming bool
		cancel          = func() {}
		tick            func()
	)
	tick = func() {
		if stopped {
			return
		}
		f()
		if arming { // a scheduler that runs f at once (tests): once is enough
			return
		}
		arming = true
		cancel = w.sched.after(d, tick)
		arming = false
	}
	tick()
	return func() { stopped = true; cancel() }
}

// copyable is a value shown in monospace, with a button that copies it.
type copyable struct {
	text *widget.Label
	copy *widget.Button
	box  *fyne.Container
}

func (w *Window) newCopyable() *copyable {
	c := &copyable{text: widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})}
	c.text.Wrapping = fyne.TextWrapBreak
	c.text.Selectable = true
	c.copy = widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), func() {
		w.app.Clipboard().SetContent(c.text.Text)
		c.copy.SetText("Copied")
	})
	c.box = container.NewBorder(nil, nil, nil, container.NewVBox(c.copy), c.text)
	return c
}

// set shows s; an empty s hides the Copy button.
func (c *copyable) set(s string) {
	if s != c.text.Text {
		c.text.SetText(s)
		c.copy.SetText("Copy")
	}
	if s == "" {
		c.copy.Hide()
	} else {
		c.copy.Show()
	}
}

// setText changes l's text only when it differs, so that a poll that finds
// nothing new draws nothing.
func setText(l *widget.Label, s string) {
	if l.Text != s {
		l.SetText(s)
	}
}

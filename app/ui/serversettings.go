package ui

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/buttonhook/buttonhook/app/engine"
	"github.com/buttonhook/buttonhook/app/server"
)

// lanWarning is what listening on the local network means.
const lanWarning = "⚠ Anyone on your network can then reach the async callbacks, the REST API (which still needs an API key) " +
	"and the request inspector. Turn it on only on a network you trust."

// serverFields are the Local server tab of the Settings dialog: where the
// local server listens, and its live status. The server follows the saved
// settings by itself.
type serverFields struct {
	w                     *Window
	port, publicURL, keep *widget.Entry
	lan, https, inspector *widget.Check
	lanNote               *widget.Label
	status                *widget.Label
	fingerprint           *copyable
	fingerprintBox        *fyne.Container
	content               fyne.CanvasObject
	// resized lays the dialog out again after a part was shown or hidden.
	resized func()
}

func (w *Window) newServerFields() *serverFields {
	cur := w.eng.Settings().Server
	sf := &serverFields{w: w, port: widget.NewEntry(), publicURL: widget.NewEntry(), keep: widget.NewEntry(), fingerprint: w.newCopyable(), resized: func() {}}
	sf.port.SetText(strconv.Itoa(cur.Port))
	sf.port.Validator = func(s string) error { _, err := parsePort(s); return err }
	sf.publicURL.SetText(cur.PublicURL)
	sf.publicURL.SetPlaceHolder("https://buttons.example.com")
	sf.publicURL.Validator = checkPublicURL
	sf.keep.SetText(strconv.Itoa(cur.InspectorKeep))
	sf.keep.Validator = func(s string) error { _, err := parseInspectorKeep(s); return err }
	sf.lanNote = newHint(lanWarning)
	sf.lanNote.TextStyle.Bold = true // the theme's warning colour is too faint to read in the light theme
	sf.lanNote.Hidden = !cur.LAN
	sf.lan = widget.NewCheck("Listen on the local network (not only this computer)", nil)
	sf.lan.SetChecked(cur.LAN)
	sf.lan.OnChanged = sf.showLANWarning
	sf.https = widget.NewCheck("Serve HTTPS with a self-signed certificate", nil)
	sf.https.SetChecked(cur.HTTPS)
	sf.inspector = widget.NewCheck("Record what is sent to /inspect/…", nil)
	sf.inspector.SetChecked(cur.Inspector)
	sf.status = widget.NewLabel("")
	sf.status.Wrapping = fyne.TextWrapWord

	sf.fingerprint.text.SizeName = theme.SizeNameCaptionText
	fpHint := newHint("The certificate's SHA-256 fingerprint, for the other side to pin.")
	sf.fingerprintBox = container.New(layout.NewCustomPaddedVBoxLayout(0), sf.fingerprint.box, fpHint)
	sf.fingerprintBox.Hide()
	form := widget.NewForm(
		&widget.FormItem{Text: "Status", Widget: sf.status},
		&widget.FormItem{Text: "Port", Widget: sf.port, HintText: fmt.Sprintf("default %d", engine.DefaultServerPort)},
		&widget.FormItem{Text: "Network", Widget: container.New(layout.NewCustomPaddedVBoxLayout(0), sf.lan, sf.lanNote)},
		&widget.FormItem{Text: "Public URL", Widget: sf.publicURL, HintText: "optional: the base URL of a reverse proxy or tunnel that reaches this server"},
		&widget.FormItem{Text: "HTTPS", Widget: container.New(layout.NewCustomPaddedVBoxLayout(0), sf.https, sf.fingerprintBox)},
		&widget.FormItem{Text: "Inspector", Widget: sf.inspector},
		&widget.FormItem{Text: "Requests kept", Widget: sf.keep, HintText: fmt.Sprintf("per inspector bin, the newest (1-%d)", engine.MaxInspectorKeep)},
	)
	sf.content = form
	sf.refresh()
	return sf
}

// refresh shows the server's status as it is now.
func (sf *serverFields) refresh() {
	st, ok := sf.w.serverStatus()
	text, imp := describeServer(st, ok)
	if text != sf.status.Text || imp != sf.status.Importance {
		sf.status.Importance = imp
		sf.status.SetText(text)
	}
	fp := ""
	if st.State == server.StateRunning {
		fp = st.Fingerprint
	}
	sf.fingerprint.set(fp)
	if (fp != "") != sf.fingerprintBox.Visible() {
		sf.fingerprintBox.Hidden = fp == ""
		sf.content.Refresh()
		sf.resized()
	}
}

// showLANWarning shows what listening on the local network means while
// that box is ticked.
func (sf *serverFields) showLANWarning(on bool) {
	if on != sf.lanNote.Visible() {
		sf.lanNote.Hidden = !on
		sf.content.Refresh()
		sf.resized()
	}
}

// read returns the server settings the fields hold, or what is wrong with
// them.
func (sf *serverFields) read() (engine.ServerSettings, error) {
	port, err1 := parsePort(sf.port.Text)
	keep, err2 := parseInspectorKeep(sf.keep.Text)
	err3 := checkPublicURL(sf.publicURL.Text)
	if err := errors.Join(err1, err2, err3); err != nil {
		return engine.ServerSettings{}, err
	}
	return engine.ServerSettings{Port: port, LAN: sf.lan.Checked, PublicURL: strings.TrimSpace(sf.publicURL.Text),
		HTTPS: sf.https.Checked, Inspector: sf.inspector.Checked, InspectorKeep: keep}, nil
}

// describeServerSettings says where the local server listens and what it
// serves: "uses port 8735, on this computer only, over HTTPS".
func describeServerSettings(s engine.ServerSettings) string {
	text := fmt.Sprintf("uses port %d", s.Port)
	if s.LAN {
		text += ", on the local network"
	} else {
		text += ", on this computer only"
	}
	if s.HTTPS {
		text += ", over HTTPS"
	}
	if s.PublicURL != "" {
		text += ", reached at " + s.PublicURL
	}
	if s.Inspector {
		text += fmt.Sprintf(", with the request inspector (%d requests per bin)", s.InspectorKeep)
	}
	return text
}

func parsePort(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	switch {
	case err != nil:
		return 0, fmt.Errorf("port: %q is not a port number: give 1-65535 (default %d)", s, engine.DefaultServerPort)
	case n < 1 || n > 65535:
		return 0, fmt.Errorf("port: %d is not a port: give 1-65535 (default %d)", n, engine.DefaultServerPort)
	}
	return n, nil
}

func parseInspectorKeep(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 || n > engine.MaxInspectorKeep {
		return 0, fmt.Errorf("keep: give how many requests each inspector bin keeps, 1-%d", engine.MaxInspectorKeep)
	}
	return n, nil
}

// checkPublicURL checks the public base URL as the engine will.
func checkPublicURL(s string) error {
	if _, err := engine.CheckPublicURL(strings.TrimSpace(s)); err != nil {
		return fmt.Errorf("public URL %w", err)
	}
	return nil
}

package ui

import (
	"cmp"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/buttonhook/buttonhook/storage"
)

// detailPanel shows one attempt below the log, as name: value lines.
type detailPanel struct {
	shown   string // the attempt's ID; empty when hidden
	title   *widget.Label
	form    *fyne.Container
	content *fyne.Container
}

// newDetailPanel makes a hidden panel; closed is called when the user
// closes it.
func newDetailPanel(closed func()) *detailPanel {
	p := &detailPanel{
		title: widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		form:  container.New(layout.NewFormLayout()),
	}
	p.title.Truncation = fyne.TextTruncateEllipsis
	closeButton := widget.NewButtonWithIcon("", theme.CancelIcon(), func() {
		p.hide()
		closed()
	})
	closeButton.Importance = widget.LowImportance
	scroll := container.NewVScroll(p.form)
	scroll.SetMinSize(fyne.NewSize(0, 210))
	p.content = container.NewBorder(
		container.NewBorder(nil, nil, nil, closeButton, p.title), nil, nil, nil, scroll)
	p.content.Hide()
	return p
}

func (p *detailPanel) show(a storage.Attempt) {
	p.shown = a.ID
	p.title.SetText(fmt.Sprintf("%s · %s · %s", a.TargetName, a.Status, formatDate(a.Time, time.Now())))
	p.form.RemoveAll()
	for _, f := range attemptFields(a) {
		name := widget.NewLabelWithStyle(f[0], fyne.TextAlignTrailing, fyne.TextStyle{Bold: true})
		value := widget.NewLabel(f[1])
		value.Wrapping = fyne.TextWrapBreak
		value.Selectable = true
		p.form.Add(name)
		p.form.Add(value)
	}
	p.form.Refresh()
	p.content.Show()
}

// update shows a again if it is the attempt shown.
func (p *detailPanel) update(a storage.Attempt) {
	if p.shown != "" && p.shown == a.ID {
		p.show(a)
	}
}

func (p *detailPanel) hide() {
	p.shown = ""
	p.content.Hide()
}

// attemptFields are the details of a, as name and value; fields that a
// does not have are left out.
func attemptFields(a storage.Attempt) [][2]string {
	var out [][2]string
	add := func(name, value string) {
		if value != "" {
			out = append(out, [2]string{name, value})
		}
	}
	result := string(a.Status)
	if a.Code != 0 {
		result += fmt.Sprintf(" · HTTP %d", a.Code)
	}
	add("Result", result)
	errText := a.Error
	if a.ErrorClass != "" {
		errText = strings.TrimSpace(a.ErrorClass + ": " + a.Error)
	}
	add("Error", errText)
	add("Message", a.Message)
	add("Request", strings.TrimSpace(a.Method+" "+a.URL))
	add("Headers", a.RequestHeaders)
	if a.Status != storage.StatusWaiting || a.Duration > 0 {
		timing := formatDuration(a.Duration)
		var parts []string
		for _, p := range []struct {
			name string
			d    time.Duration
		}{{"connect", a.Timing.Connect}, {"TLS", a.Timing.TLS}, {"first byte", a.Timing.FirstByte}} {
			if p.d > 0 {
				parts = append(parts, p.name+" "+formatDuration(p.d))
			}
		}
		if len(parts) > 0 {
			timing += " (" + strings.Join(parts, " · ") + ")"
		}
		add("Time", timing)
	}
	resp := a.Response
	if a.ResponseTruncated {
		resp += " …(cut)"
	}
	add("Response", resp)
	add("Trigger ID", a.ID)
	add("Pressed", a.Time.Local().Format("2006-01-02 15:04:05.000 MST"))
	add("Target", fmt.Sprintf("%s (v%d, %s)", a.TargetName, a.TargetVersion, a.TargetID))
	add("Button", fmt.Sprintf("%d %s on %s", a.Button, a.Gesture, cmp.Or(a.DeviceName, a.DeviceID)))
	if a.Tries > 0 {
		add("Tries", fmt.Sprint(a.Tries))
	}
	if !a.Finished.IsZero() {
		add("Finished", a.Finished.Local().Format("2006-01-02 15:04:05.000 MST"))
	}
	return out
}

package ui

import (
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/buttonhook/buttonhook/app/engine"
	"github.com/buttonhook/buttonhook/storage"
)

// detailPanel shows one attempt below the log, as name: value lines.
type detailPanel struct {
	shown   string // the attempt's ID; empty when hidden
	title   *widget.Label
	form    *fyne.Container
	scroll  *container.Scroll // the form's
	content *fyne.Container
}

// newDetailPanel makes a hidden panel; closed is called when the user
// closes it.
func newDetailPanel(closed func()) *detailPanel {
	p := &detailPanel{
		title: widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		form:  container.New(layout.NewFormLayout()),
	}
	p.scroll = container.NewVScroll(p.form)
	p.title.Truncation = fyne.TextTruncateEllipsis
	closeButton := widget.NewButtonWithIcon("", theme.CancelIcon(), func() {
		p.hide()
		closed()
	})
	closeButton.Importance = widget.LowImportance
	p.content = container.NewBorder(
		container.NewBorder(nil, nil, nil, closeButton, p.title), nil, nil, nil,
		container.New(&wholeLines{form: p.form}, p.scroll))
	p.content.Hide()
	return p
}

// detailRows is how many one-line rows of details show before they scroll.
const detailRows = 5

// wholeLines lays out the details' scroll: detailRows one-line rows tall at
// most (as tall as the details when they are shorter), and ending where a
// line of text ends, also when a value wraps to more lines or rows are
// taller, so that no line shows cut in half.
type wholeLines struct{ form *fyne.Container }

func (l *wholeLines) MinSize(objs []fyne.CanvasObject) fyne.Size {
	row := lineHeight(fyne.TextStyle{}) + 2*theme.InnerPadding()
	most := detailRows*row + (detailRows-1)*theme.Padding()
	return fyne.NewSize(objs[0].MinSize().Width, min(l.form.MinSize().Height, most))
}

func (l *wholeLines) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	scroll := objs[0].(*container.Scroll)
	scroll.Move(fyne.NewPos(0, 0))
	scroll.Resize(size) // lays the rows out at this width
	top := scroll.Offset.Y
	scroll.Resize(fyne.NewSize(size.Width, lineEnd(l.form, top, top+size.Height)-top))
}

// lineEnd is where a view of form's labels from top to bottom should end so
// that it ends between two lines of text: bottom, or the top of the line
// that crosses it (repeated: that top can cross a line of the next column).
func lineEnd(form *fyne.Container, top, bottom float32) float32 {
	pad := theme.InnerPadding()
	for moved := true; moved; {
		moved = false
		for _, o := range form.Objects {
			l, ok := o.(*widget.Label)
			if !ok || !l.Visible() {
				continue
			}
			h := lineHeight(l.TextStyle)
			lines := max(1, int(math.Round(float64((l.MinSize().Height-2*pad)/h))))
			for i := range lines {
				y := l.Position().Y + pad + float32(i)*h
				if y > top && y < bottom && bottom < y+h {
					bottom, moved = y, true
				}
			}
		}
	}
	return bottom
}

// lineHeight is the height of a line of a label's text.
func lineHeight(style fyne.TextStyle) float32 {
	return fyne.MeasureText("M", theme.TextSize(), style).Height
}

func (p *detailPanel) show(a storage.Attempt) {
	p.shown = a.ID
	p.title.SetText(a.TargetName + " · " + formatDate(a.Time, time.Now()))
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

// resultText says how an attempt ended, and what the server answered:
// "Failed · HTTP 503 Service Unavailable", "OK · HTTP 200" (the reason
// phrase left out when it is the status again), "Failed · no response".
func resultText(a storage.Attempt) string {
	switch {
	case a.Code != 0:
		code := fmt.Sprintf("HTTP %d", a.Code)
		if reason := http.StatusText(a.Code); reason != "" && reason != string(a.Status) {
			code += " " + reason
		}
		return string(a.Status) + " · " + code
	case a.Status == storage.StatusFailed:
		return string(a.Status) + " · no response"
	}
	return string(a.Status)
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
	add("Result", resultText(a))
	errText := a.Error
	if a.ErrorClass != "" {
		errText = strings.TrimSpace(a.ErrorClass + ": " + a.Error)
	}
	add("Error", errText)
	add("Message", a.Message)
	add("Request", strings.TrimSpace(a.Method+" "+a.URL))
	add("Headers", a.RequestHeaders)
	if a.Status != storage.StatusWaiting || a.Duration > 0 {
		add("Time", engine.FormatTiming(a.Duration, a.Timing.Connect, a.Timing.TLS, a.Timing.FirstByte))
	}
	resp := a.Response
	if a.ResponseTruncated {
		resp += " …(cut)"
	}
	add("Response", resp)
	add("Trigger ID", a.ID)
	add("Pressed", a.Time.Local().Format("2006-01-02 15:04:05.000 MST"))
	add("Target", fmt.Sprintf("%s (v%d, %s)", a.TargetName, a.TargetVersion, a.TargetID))
	add("Button", strings.Replace(engine.Trigger(a), " · ", " on ", 1))
	if a.Tries > 0 {
		add("Tries", fmt.Sprint(a.Tries))
	}
	if !a.Finished.IsZero() {
		add("Finished", a.Finished.Local().Format("2006-01-02 15:04:05.000 MST"))
	}
	return out
}

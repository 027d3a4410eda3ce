package ui

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/buttonhook/buttonhook/app/server"
)

// defaultBin is the inspector bin the window opens on.
const defaultBin = "demo"

// inspectorPoll is how often the inspector window looks for new requests.
const inspectorPoll = 300 * time.Millisecond

// inspectorView is the request inspector's window: the URL of a bin to
// send requests to, and the requests it recorded, newest first, with the
// headers and body of the one selected. Credentials in headers and query
// come masked from the server.
type inspectorView struct {
	w *Window

	bin      *widget.Entry
	shown    string // the bin shown: the last name typed that is one
	url      *copyable
	urlHint  *widget.Label
	off      *fyne.Container // the inspector is off, with a button to turn it on
	offText  *widget.Label
	turnOn   *widget.Button
	problem  *widget.Label // the server cannot run
	list     *widget.List
	detail   *widget.Label
	reqs     []server.Inspected // newest first
	selected uint64             // Seq of the request shown; 0 for none
	content  fyne.CanvasObject
}

func (w *Window) newInspectorView() *inspectorView {
	v := &inspectorView{w: w, bin: widget.NewEntry(), shown: defaultBin, url: w.newCopyable()}
	v.bin.SetText(defaultBin)
	v.bin.Validator = checkBin
	v.bin.OnChanged = func(s string) {
		if checkBin(s) == nil && s != v.shown {
			v.shown = s
			v.selected = 0
			v.list.UnselectAll()
			v.refresh()
		}
	}
	v.urlHint = newHint("")
	v.offText = widget.NewLabel("The request inspector is off: requests sent to /inspect/ are refused and not recorded.")
	v.offText.Wrapping = fyne.TextWrapWord
	v.offText.Importance = widget.WarningImportance
	v.turnOn = widget.NewButtonWithIcon("Turn the inspector on", theme.ConfirmIcon(), v.turnOnInspector)
	v.turnOn.Importance = widget.HighImportance
	v.off = container.NewBorder(nil, nil, nil, container.NewCenter(v.turnOn), v.offText)
	v.problem = widget.NewLabel("")
	v.problem.Wrapping = fyne.TextWrapWord
	v.problem.Importance = widget.DangerImportance

	v.list = widget.NewList(func() int { return len(v.reqs) }, newTwoLine, v.updateRow)
	v.list.OnSelected = func(id widget.ListItemID) {
		if id < len(v.reqs) {
			v.selected = v.reqs[id].Seq
			v.showDetail()
		}
	}
	v.detail = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	v.detail.Wrapping = fyne.TextWrapBreak
	v.detail.Selectable = true

	form := widget.NewForm(
		&widget.FormItem{Text: "Bin", Widget: v.bin, HintText: "any name: letters, digits, dots, dashes and underscores"},
		&widget.FormItem{Text: "Send to", Widget: container.NewVBox(v.url.box, v.urlHint)},
	)
	top := container.NewVBox(form, v.off, v.problem)
	split := container.NewHSplit(widget.NewCard("Requests", "newest first", v.list),
		widget.NewCard("Request", "", container.NewVScroll(v.detail)))
	split.Offset = 0.38
	v.content = container.NewBorder(container.NewPadded(top), nil, nil, nil, split)
	v.refresh()
	v.showDetail()
	return v
}

func checkBin(s string) error {
	if !server.ValidBin(s) {
		return errors.New("a bin's name is 1 to 64 letters, digits, dots, dashes or underscores")
	}
	return nil
}

// refresh shows whether the inspector records, where to send requests,
// and the requests the bin holds now.
func (v *inspectorView) refresh() {
	st, hasServer := v.w.serverStatus()
	settings := v.w.eng.Settings().Server
	on, running := settings.Inspector, st.State == server.StateRunning
	if v.off.Hidden != on || v.problem.Hidden != (!on || running) {
		v.off.Hidden, v.problem.Hidden = on, !on || running
		v.content.Refresh()
	}
	if !v.problem.Hidden {
		text, _ := describeServer(st, hasServer)
		setText(v.problem, "The local server does not run, so nothing reaches the inspector. "+text)
	}
	base, _ := v.w.serverBase()
	bin := v.shown
	u := base + "/inspect/" + bin
	v.url.set(u)
	curl := "curl -d hello " + u
	if strings.HasPrefix(u, "https:") {
		curl = "curl -k -d hello " + u + " (-k: the certificate is self-signed)"
	}
	setText(v.urlHint, fmt.Sprintf("Point a target at this URL and press its button, or try: %s. "+
		"Any method and any path under it are recorded; the newest %d are kept. Credentials in headers and the query are masked.",
		curl, settings.InspectorKeep))

	var reqs []server.Inspected
	if v.w.srv != nil {
		reqs = v.w.srv.Inspector().Requests(bin)
	}
	slices.Reverse(reqs)
	if len(reqs) == len(v.reqs) && (len(reqs) == 0 || reqs[0].Seq == v.reqs[0].Seq) {
		return
	}
	v.reqs = reqs
	v.list.Refresh()
	if i := slices.IndexFunc(v.reqs, func(q server.Inspected) bool { return q.Seq == v.selected }); i >= 0 {
		v.list.Select(i) // the same request, which moved down
	} else {
		v.selected = 0
		v.list.UnselectAll()
	}
	v.showDetail()
}

func (v *inspectorView) updateRow(id widget.ListItemID, o fyne.CanvasObject) {
	box := o.(*fyne.Container)
	title, detail := box.Objects[0].(*widget.Label), box.Objects[1].(*widget.Label)
	q := v.reqs[id]
	title.SetText(q.Method + " " + q.Path)
	detail.SetText(q.Time.Local().Format("15:04:05") + " · " + bodySize(q) + " · from " + q.Client)
}

func bodySize(q server.Inspected) string {
	switch {
	case q.Truncated:
		return fmt.Sprintf("over %d KiB", server.MaxInspectBody>>10)
	case q.Size == 1:
		return "1 byte"
	}
	return fmt.Sprintf("%d bytes", q.Size)
}

// showDetail shows the selected request, or how to send one.
func (v *inspectorView) showDetail() {
	i := slices.IndexFunc(v.reqs, func(q server.Inspected) bool { return q.Seq == v.selected })
	switch {
	case i >= 0:
		v.detail.SetText(describeRequest(v.reqs[i]))
	case len(v.reqs) == 0:
		v.detail.SetText("Nothing has been sent to this bin yet.")
	default:
		v.detail.SetText("Select a request to see its headers and body.")
	}
}

// describeRequest shows a recorded request: its line, when and from where,
// its headers in order, and its body (JSON indented).
func describeRequest(q server.Inspected) string {
	var b strings.Builder
	target := q.Path
	if q.Query != "" {
		query, err := url.QueryUnescape(q.Query)
		if err != nil {
			query = q.Query
		}
		target += "?" + query
	}
	fmt.Fprintf(&b, "%s %s\n%s · from %s · %s\n\n", q.Method, target, q.Time.Local().Format("2006-01-02 15:04:05.000"), q.Client, bodySize(q))
	var headers strings.Builder
	q.Headers.Write(&headers) // sorted by name; a strings.Builder does not fail
	b.WriteString(strings.ReplaceAll(headers.String(), "\r\n", "\n"))
	body := q.Body
	var indented bytes.Buffer
	switch {
	case q.BodyBase64:
		b.WriteString("\n(binary body, shown as base64)\n")
	case json.Indent(&indented, []byte(body), "", "  ") == nil:
		body = indented.String()
	}
	if body != "" {
		b.WriteString("\n" + body + "\n")
	}
	if q.Truncated {
		fmt.Fprintf(&b, "\n(only the first %d KiB of the body were kept)\n", server.MaxInspectBody>>10)
	}
	return b.String()
}

// turnOnInspector saves the inspector setting on; the server follows.
func (v *inspectorView) turnOnInspector() {
	s := v.w.eng.Settings()
	s.Server.Inspector = true
	if err := v.w.eng.SetSettings(s); err != nil {
		v.offText.SetText("Cannot turn the inspector on: " + problemText(err))
		return
	}
	v.w.setStatus("Turned the request inspector on.")
	v.refresh()
}

// showInspector opens a request inspector window on the default bin.
func (w *Window) showInspector() {
	v := w.newInspectorView()
	win := w.app.NewWindow("Request inspector")
	win.SetContent(v.content)
	win.Resize(fyne.NewSize(960, 640))
	stop := w.poll(inspectorPoll, v.refresh)
	win.SetOnClosed(stop)
	win.Show()
}

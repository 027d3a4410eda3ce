package ui

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/buttonhook/buttonhook/actions"
	"github.com/buttonhook/buttonhook/app/engine"
	"github.com/buttonhook/buttonhook/device"
)

// editor is a form in a dialog whose Save keeps the dialog open and shows the
// problem when saving fails.
type editor struct {
	form    *widget.Form
	problem *widget.Label
	save    *widget.Button
	cancel  *widget.Button
	content fyne.CanvasObject
	// grow makes room for the problem text (the dialog resizes to fit).
	grow func()
}

func newEditor(items []*widget.FormItem, save func() error, done func()) *editor {
	ed := &editor{form: widget.NewForm(items...), problem: widget.NewLabel(""), grow: func() {}}
	ed.problem.Importance = widget.DangerImportance
	ed.problem.Wrapping = fyne.TextWrapWord
	ed.problem.Hide()
	ed.save = widget.NewButton("Save", func() {
		if err := save(); err != nil {
			ed.problem.SetText(problemText(err))
			ed.problem.Show()
			ed.grow()
			return
		}
		done()
	})
	ed.save.Importance = widget.HighImportance
	ed.cancel = widget.NewButton("Cancel", done)
	ed.content = container.NewBorder(nil, container.NewVBox(ed.problem, container.NewHBox(ed.cancel, ed.save)), nil, nil, ed.form)
	return ed
}

// problemText lists an error's problems one per line. An editor saves one
// item, so the import paths ("targets[0].") are left out.
func problemText(err error) string {
	var ie engine.ImportError
	if !errors.As(err, &ie) {
		return err.Error()
	}
	lines := make([]string, len(ie))
	for i, l := range ie {
		for _, p := range []string{"targets[0].", "bindings[0].", "serial_ports[0]: "} {
			l = strings.TrimPrefix(l, p)
		}
		lines[i] = l
	}
	return strings.Join(lines, "\n")
}

func (w *Window) show(title string, build func(done func()) *editor, width float32) {
	var d dialog.Dialog
	ed := build(func() { d.Hide() })
	d = dialog.NewCustomWithoutButtons(title, ed.content, w.Window)
	ed.grow = func() { d.Resize(fyne.NewSize(width, ed.content.MinSize().Height+80)) }
	d.Resize(fyne.NewSize(width, 0))
	d.Show()
}

// targetEditor holds the fields of a target.
type targetEditor struct {
	name, url, timeout *widget.Entry
	headers, body      *widget.Entry
	method, bodyKind   *widget.Select
	enabled            *widget.Check
}

var bodyKinds = []string{"None", "JSON", "Form"}

func newTargetEditor() *targetEditor {
	te := &targetEditor{
		name: widget.NewEntry(), url: widget.NewEntry(), timeout: widget.NewEntry(),
		headers: widget.NewMultiLineEntry(), body: widget.NewMultiLineEntry(),
		method: widget.NewSelect(actions.Methods, nil), bodyKind: widget.NewSelect(bodyKinds, nil),
		enabled: widget.NewCheck("Enabled", nil),
	}
	te.name.SetPlaceHolder("Door bell")
	te.url.SetPlaceHolder("https://example.com/hook?who=<NAME>")
	te.timeout.SetPlaceHolder("10")
	te.headers.SetPlaceHolder("X-Api-Key: …  (one header per line)")
	te.headers.SetMinRowsVisible(2)
	te.body.SetPlaceHolder(`{"event":"<ETYPE>","id":"<EID>"}   or   key=value lines for a form`)
	te.body.SetMinRowsVisible(4)
	te.method.SetSelected("POST")
	te.bodyKind.SetSelected("JSON")
	te.enabled.SetChecked(true)
	return te
}

func (te *targetEditor) items() []*widget.FormItem {
	return []*widget.FormItem{
		{Text: "Name", Widget: te.name, HintText: "letters, digits, -, ' and spaces"},
		{Text: "Method", Widget: te.method},
		{Text: "URL", Widget: te.url, HintText: "tags like <DATETIME>, <EID>, <NAME> are filled in"},
		{Text: "Headers", Widget: te.headers},
		{Text: "Body", Widget: te.bodyKind},
		{Text: "", Widget: te.body},
		{Text: "Timeout (s)", Widget: te.timeout, HintText: "1 to 120; default 10"},
		{Text: "", Widget: te.enabled},
	}
}

// target reads the fields into a target. Validation is the engine's.
func (te *targetEditor) target() (actions.Target, error) {
	t := actions.Target{Name: strings.TrimSpace(te.name.Text), Method: te.method.Selected, URL: strings.TrimSpace(te.url.Text), Enabled: te.enabled.Checked}
	for i, line := range nonEmptyLines(te.headers.Text) {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			return t, fmt.Errorf("headers line %d: write Name: value", i+1)
		}
		t.Headers = append(t.Headers, actions.KV{Key: strings.TrimSpace(k), Value: strings.TrimSpace(v)})
	}
	switch te.bodyKind.Selected {
	case "JSON":
		if strings.TrimSpace(te.body.Text) != "" {
			t.Body = actions.Body{Kind: actions.BodyJSON, JSON: te.body.Text}
		}
	case "Form":
		t.Body.Kind = actions.BodyForm
		for i, line := range nonEmptyLines(te.body.Text) {
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				return t, fmt.Errorf("form line %d: write key=value", i+1)
			}
			t.Body.Form = append(t.Body.Form, actions.KV{Key: strings.TrimSpace(k), Value: strings.TrimSpace(v)})
		}
	}
	if s := strings.TrimSpace(te.timeout.Text); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return t, fmt.Errorf("timeout: %q is not a whole number of seconds", s)
		}
		t.Timeout = actions.Seconds(n)
	}
	return t, nil
}

func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

func (w *Window) targetEditor(done func()) (*targetEditor, *editor) {
	te := newTargetEditor()
	ed := newEditor(te.items(), func() error {
		t, err := te.target()
		if err != nil {
			return err
		}
		if err := w.eng.SaveTarget(t); err != nil {
			return err
		}
		w.setStatus("Saved target " + t.Name + ". Bind it to a button with New binding.")
		return nil
	}, done)
	return te, ed
}

func (w *Window) showTargetEditor() {
	w.show("New target", func(done func()) *editor { _, ed := w.targetEditor(done); return ed }, 620)
}

// bindingEditor holds the fields of a binding.
type bindingEditor struct {
	device, gesture, target *widget.Select
	button                  *widget.Entry
	deviceIDs               []string // parallel to device.Options; "" for any
}

const anyDevice = "Any device"

func (w *Window) newBindingEditor() *bindingEditor {
	be := &bindingEditor{button: widget.NewEntry()}
	opts := []string{anyDevice}
	be.deviceIDs = []string{""}
	for _, d := range w.devices {
		if d.ID != "" {
			opts = append(opts, d.Name()+" ("+d.ID+")")
			be.deviceIDs = append(be.deviceIDs, d.ID)
		}
	}
	be.device = widget.NewSelect(opts, nil)
	be.device.SetSelectedIndex(0)
	be.gesture = widget.NewSelect([]string{string(device.Press), string(device.LongPress), string(device.DoublePress)}, nil)
	be.gesture.SetSelected(string(device.Press))
	var names []string
	for _, t := range w.config.Targets {
		names = append(names, t.Name)
	}
	be.target = widget.NewSelect(names, nil)
	if len(names) > 0 {
		be.target.SetSelectedIndex(0)
	}
	be.button.SetText("1")
	return be
}

func (be *bindingEditor) binding() (engine.Binding, error) {
	n, err := strconv.Atoi(strings.TrimSpace(be.button.Text))
	if err != nil {
		return engine.Binding{}, fmt.Errorf("button: %q is not a number", be.button.Text)
	}
	if be.target.Selected == "" {
		return engine.Binding{}, errors.New("target: create a target first")
	}
	return engine.Binding{Device: be.deviceIDs[max(be.device.SelectedIndex(), 0)], Button: n,
		Gesture: device.Gesture(be.gesture.Selected), Target: be.target.Selected}, nil
}

func (w *Window) bindingEditor(done func()) (*bindingEditor, *editor) {
	be := w.newBindingEditor()
	ed := newEditor([]*widget.FormItem{
		{Text: "Device", Widget: be.device},
		{Text: "Button", Widget: be.button, HintText: "numbered from 1"},
		{Text: "Gesture", Widget: be.gesture, HintText: "press, long (held 0.8 s) or double"},
		{Text: "Target", Widget: be.target},
	}, func() error {
		b, err := be.binding()
		if err != nil {
			return err
		}
		if err := w.eng.SaveBinding(b); err != nil {
			return err
		}
		w.setStatus(fmt.Sprintf("Button %d %s now calls %s.", b.Button, b.Gesture, b.Target))
		return nil
	}, done)
	return be, ed
}

func (w *Window) showBindingEditor() {
	w.show("New binding", func(done func()) *editor { _, ed := w.bindingEditor(done); return ed }, 480)
}

func (w *Window) portEditor(done func()) (*widget.Entry, *editor) {
	path := widget.NewEntry()
	path.SetPlaceHolder("/dev/ttyACM0, COM3, or the path `buttonhook sim` prints")
	ed := newEditor([]*widget.FormItem{{Text: "Serial port", Widget: path, HintText: "Buttonhook opens it at 115200 baud and keeps reconnecting"}},
		func() error {
			p := strings.TrimSpace(path.Text)
			if p == "" {
				return errors.New("serial port: enter a path")
			}
			if err := w.eng.AddSerialPort(p); err != nil {
				return err
			}
			w.setStatus("Added " + p + "; connecting…")
			return nil
		}, done)
	return path, ed
}

func (w *Window) showPortEditor() {
	w.show("Add serial port", func(done func()) *editor { _, ed := w.portEditor(done); return ed }, 520)
}

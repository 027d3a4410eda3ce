package ui

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

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
	ed.content = container.NewBorder(nil, container.NewVBox(ed.problem, container.NewHBox(layout.NewSpacer(), ed.cancel, ed.save)), nil, nil, ed.form)
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
		for _, p := range []string{"targets[0].", "bindings[0]."} {
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

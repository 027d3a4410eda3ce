package ui

import (
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/buttonhook/buttonhook/actions"
)

// fields lays out labelled rows like widget.Form, but a row can be hidden
// (widget.Form keeps the label of a hidden widget).
type fields struct{ objs []fyne.CanvasObject }

// row is one labelled row of fields.
type row struct {
	label   *widget.Label
	content *fyne.Container
	hint    *widget.Label
}

// add appends a row with a label, a widget and an optional hint under it.
func (f *fields) add(label string, w fyne.CanvasObject, hint string) *row {
	r := &row{label: widget.NewLabelWithStyle(label, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), hint: newHint(hint)}
	r.content = container.New(layout.NewCustomPaddedVBoxLayout(0), w, r.hint)
	if hint == "" {
		r.hint.Hide()
	}
	f.objs = append(f.objs, r.label, r.content)
	return r
}

func (f *fields) container() *fyne.Container {
	return container.New(layout.NewFormLayout(), f.objs...)
}

func (r *row) show(on bool) {
	if on {
		r.label.Show()
		r.content.Show()
	} else {
		r.label.Hide()
		r.content.Hide()
	}
}

func (r *row) setHint(s string) {
	r.hint.SetText(s)
	if s == "" {
		r.hint.Hide()
	} else {
		r.hint.Show()
	}
}

// newHint is a hint under a field or a list: caption size in the theme's
// foreground colour. Quiet text is never LowImportance, which draws in the
// disabled colour (1.5:1 against a dark dialog, too faint to read).
func newHint(s string) *widget.Label {
	h := widget.NewLabel(s)
	h.SizeName = theme.SizeNameCaptionText
	h.Wrapping = fyne.TextWrapWord
	return h
}

// capped shows o in a vertical scroll as tall as o, up to height.
func capped(o fyne.CanvasObject, height float32) fyne.CanvasObject {
	return container.New(&capLayout{content: o, height: height}, container.NewVScroll(o))
}

type capLayout struct {
	content fyne.CanvasObject
	height  float32
}

func (l *capLayout) MinSize([]fyne.CanvasObject) fyne.Size {
	m := l.content.MinSize()
	return fyne.NewSize(m.Width, min(m.Height, l.height))
}

func (l *capLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
}

// narrow shows a short entry (a number) at a fixed width, with its unit.
func narrow(e *widget.Entry, unit string) fyne.CanvasObject {
	box := container.NewHBox(container.NewGridWrap(fyne.NewSize(110, e.MinSize().Height), e))
	if unit != "" {
		box.Add(widget.NewLabel(unit))
	}
	return box
}

func newEntry(placeholder string, changed func()) *widget.Entry {
	e := widget.NewEntry()
	e.SetPlaceHolder(placeholder)
	e.OnChanged = func(string) { changed() }
	return e
}

func newMultiLine(placeholder string, rows int, changed func()) *widget.Entry {
	e := widget.NewMultiLineEntry()
	e.SetPlaceHolder(placeholder)
	e.SetMinRowsVisible(rows)
	e.TextStyle = fyne.TextStyle{Monospace: true}
	e.OnChanged = func(string) { changed() }
	return e
}

// kvRows edits a list of key/value rows (query parameters, headers, form
// fields), one pair of entries per row with a remove button, and an Add
// button under them.
type kvRows struct {
	box        *fyne.Container
	list       *fyne.Container
	rows       []*kvRow
	keyHint    string
	valueHint  string
	changed    func()
	win        fyne.Window // for the file picker
	files      bool        // offer a file picker on each row (multipart)
	addButton  *widget.Button
	emptyLabel *widget.Label
}

type kvRow struct {
	key, value   *widget.Entry
	file, remove *widget.Button
	obj          fyne.CanvasObject
}

func newKVRows(what, keyHint, valueHint string, win fyne.Window, changed func()) *kvRows {
	r := &kvRows{list: container.NewVBox(), keyHint: keyHint, valueHint: valueHint, changed: changed, win: win}
	r.addButton = widget.NewButtonWithIcon("Add "+what, theme.ContentAddIcon(), func() { r.add(actions.KV{}); r.changed() })
	r.emptyLabel = widget.NewLabel("No " + what + "s")
	r.emptyLabel.Importance = widget.MediumImportance
	r.box = container.NewVBox(r.list, container.NewHBox(r.addButton, r.emptyLabel))
	return r
}

// set replaces the rows.
func (r *kvRows) set(kvs []actions.KV) {
	r.rows = nil
	r.list.RemoveAll()
	for _, kv := range kvs {
		r.add(kv)
	}
	r.refreshEmpty()
}

func (r *kvRows) add(kv actions.KV) {
	kr := &kvRow{key: newEntry(r.keyHint, r.changed), value: newEntry(r.valueHint, r.changed)}
	kr.key.SetText(kv.Key)
	kr.value.SetText(kv.Value)
	kr.remove = widget.NewButtonWithIcon("", theme.ContentRemoveIcon(), func() { r.remove(kr) })
	kr.file = widget.NewButtonWithIcon("", theme.FolderOpenIcon(), func() { r.pickFile(kr) })
	if !r.files {
		kr.file.Hide()
	}
	kr.obj = container.NewBorder(nil, nil, nil, container.NewHBox(kr.file, kr.remove), container.NewGridWithColumns(2, kr.key, kr.value))
	r.rows = append(r.rows, kr)
	r.list.Add(kr.obj)
	r.refreshEmpty()
}

func (r *kvRows) remove(kr *kvRow) {
	r.rows = slices.DeleteFunc(r.rows, func(o *kvRow) bool { return o == kr })
	r.list.Remove(kr.obj)
	r.refreshEmpty()
	r.changed()
}

func (r *kvRows) refreshEmpty() {
	if len(r.rows) == 0 {
		r.emptyLabel.Show()
	} else {
		r.emptyLabel.Hide()
	}
}

// showFiles shows or hides the file picker of each row.
func (r *kvRows) showFiles(on bool) {
	r.files = on
	for _, kr := range r.rows {
		if on {
			kr.file.Show()
		} else {
			kr.file.Hide()
		}
	}
}

// pickFile lets the user choose a file to upload: the row's value becomes
// file:<path>.
func (r *kvRows) pickFile(kr *kvRow) {
	d := dialog.NewFileOpen(func(rc fyne.URIReadCloser, err error) {
		if err != nil || rc == nil {
			return
		}
		defer rc.Close()
		kr.value.SetText(actions.FilePrefix + rc.URI().Path())
		if kr.key.Text == "" {
			kr.key.SetText("file")
		}
	}, r.win)
	d.Show()
}

// kvs returns the rows, without the ones left entirely empty. Keys are
// trimmed; values are kept as typed.
func (r *kvRows) kvs() []actions.KV {
	var out []actions.KV
	for _, kr := range r.rows {
		k := strings.TrimSpace(kr.key.Text)
		if k == "" && kr.value.Text == "" {
			continue
		}
		out = append(out, actions.KV{Key: k, Value: kr.value.Text})
	}
	return out
}

package ui

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/buttonhook/buttonhook/app/engine"
)

// itemForm edits one item of the devices section (a port, a debounce
// setting, a pair) in its own dialog. The problems of a save are shown
// under their fields, and the dialog stays open.
type itemForm struct {
	f       fields
	rows    map[string]*row // by the field's path in the item ("port", "baud")
	lists   []func(add func(key string, r *row))
	hints   map[*row]string // each row's own hint
	problem *widget.Label   // problems of no field
	save    *widget.Button
	content fyne.CanvasObject
	height  func() float32 // of the whole form, unscrolled
	grow    func()         // makes room for the problems shown
}

func newItemForm() *itemForm {
	f := &itemForm{rows: map[string]*row{}, hints: map[*row]string{}, problem: widget.NewLabel("")}
	f.problem.Importance = widget.DangerImportance
	f.problem.Wrapping = fyne.TextWrapWord
	f.problem.Hide()
	return f
}

// add adds a row for the field at path.
func (f *itemForm) add(path, label string, w fyne.CanvasObject, hint string) *row {
	r := f.f.add(label, w, hint)
	f.rows[path], f.hints[r] = r, hint
	return r
}

// build lays the form out with Save and Cancel; save reports the problems
// found ("field: message", the field as the engine names it).
func (f *itemForm) build(save func() []string, done func()) {
	f.save = widget.NewButton("Save", func() {
		if ps := save(); len(ps) > 0 {
			f.show(ps)
			return
		}
		done()
	})
	f.save.Importance = widget.HighImportance
	bottom := container.NewVBox(f.problem, container.NewHBox(layout.NewSpacer(), widget.NewButton("Cancel", done), f.save))
	body := f.f.container()
	f.content = container.NewBorder(nil, bottom, nil, nil, container.NewVScroll(body))
	f.height = func() float32 { return body.MinSize().Height + bottom.MinSize().Height }
}

// show puts each problem under the row of its field (or of the nearest
// field that holds it: "buttons[1].leds[0].pin" under "buttons[1]"), in
// words; the others go under the form.
func (f *itemForm) show(problems []string) {
	rows := maps.Clone(f.rows)
	for _, l := range f.lists {
		l(func(key string, r *row) { rows[key] = r })
	}
	for _, r := range rows {
		r.hint.Importance = widget.MediumImportance
		r.setHint(f.hints[r])
	}
	shown := map[*row][]string{}
	var rest []string
	for _, p := range problems {
		field, msg, ok := strings.Cut(p, ": ")
		for ok && rows[field] == nil && field != "" {
			field = field[:max(strings.LastIndexAny(field, ".["), 0)]
		}
		if r := rows[field]; ok && r != nil {
			shown[r] = append(shown[r], inWords(r.label, msg))
		} else {
			rest = append(rest, inWords(nil, p))
		}
	}
	for r, msgs := range shown {
		r.hint.Importance = widget.DangerImportance
		r.setHint(strings.Join(msgs, "\n"))
	}
	f.problem.SetText(strings.Join(rest, "\n"))
	f.problem.Hidden = len(rest) == 0
	f.content.Refresh()
	f.grow()
}

var (
	ledPinPath = regexp.MustCompile(`buttons\[(\d+)\]\.leds\[\d+\]\.pin`)
	pinPath    = regexp.MustCompile(`buttons\[(\d+)\]\.pin`)
)

// inWords makes a problem read as a sentence under its field: a field
// path in it becomes words, one that starts with "is" gets the field's
// name ("Port is empty: ..."), and a first word (not a name or a value)
// its capital.
func inWords(label *widget.Label, msg string) string {
	msg = ledPinPath.ReplaceAllStringFunc(msg, func(s string) string { return "an LED of button " + nth(ledPinPath, s) })
	msg = pinPath.ReplaceAllStringFunc(msg, func(s string) string { return "button " + nth(pinPath, s) })
	if strings.HasPrefix(msg, "is ") && label != nil && label.Text != "" {
		return label.Text + " " + msg
	}
	if word, _, _ := strings.Cut(msg, " "); word != "" && strings.Trim(word, "abcdefghijklmnopqrstuvwxyz") == "" {
		return strings.ToUpper(msg[:1]) + msg[1:] // a word, not a name or a value
	}
	return msg
}

// nth is the button number, from 1, of a path re matched.
func nth(re *regexp.Regexp, s string) string {
	n, _ := strconv.Atoi(re.FindStringSubmatch(s)[1])
	return strconv.Itoa(n + 1)
}

// relative turns the engine's problems with the item at path into the
// item's own ("devices.firmata[2].baud: x" is "baud: x"; those of the item
// itself go to field whole).
func relative(err error, path, whole string) []string {
	var ie engine.ImportError
	if !errors.As(err, &ie) {
		return []string{": " + err.Error()}
	}
	out := make([]string, len(ie))
	for i, p := range ie {
		switch {
		case strings.HasPrefix(p, path+"."):
			out[i] = strings.TrimPrefix(p, path+".")
		case strings.HasPrefix(p, path+": "):
			out[i] = whole + strings.TrimPrefix(p, path)
		default:
			out[i] = ": " + p
		}
	}
	return out
}

// showForm opens f in a dialog over the Devices dialog; save saves it and
// returns its problems.
func (dd *devicesDialog) showForm(title string, f *itemForm, save func() []string) {
	var d dialog.Dialog
	f.build(save, func() { d.Hide() })
	d = dialog.NewCustomWithoutButtons(title, f.content, dd.w.Window)
	f.grow = func() {
		size := dd.w.Canvas().Size()
		d.Resize(fyne.NewSize(min(760, size.Width-40), min(f.height()+100, size.Height-40)))
	}
	f.grow()
	d.Show()
}

// number reads a whole number; "" gives def. The problem names the field.
func number(e *widget.Entry, field string, def int, problems *[]string) int {
	s := strings.TrimSpace(e.Text)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		*problems = append(*problems, fmt.Sprintf("%s: %q is not a whole number", field, s))
	}
	return n
}

func numberEntry(n int, placeholder string) *widget.Entry {
	e := widget.NewEntry()
	e.SetPlaceHolder(placeholder)
	if n != 0 {
		e.SetText(strconv.Itoa(n))
	}
	return e
}

// saveItem saves the devices section with v in the list named name (which
// list returns), in place of orig (if not nil) and of the item same says
// is v's, and reports ok; it returns the problems found, relative to v.
func saveItem[T any](dd *devicesDialog, name string, list func(*engine.Devices) *[]T, orig *T, v T, same func(T) func(T) bool, ok string) []string {
	var at string
	err := dd.apply(func(d *engine.Devices) {
		l := list(d)
		if orig != nil {
			*l = slices.DeleteFunc(*l, same(*orig))
		}
		at = appendAt(l, slices.DeleteFunc(*l, same(v)), v, name)
	})
	if err != nil {
		return relative(err, at, "")
	}
	dd.report(nil, ok)
	return nil
}

// appendAt sets *l to rest with v appended and returns v's path.
func appendAt[T any](l *[]T, rest []T, v T, name string) string {
	*l = append(rest, v)
	return fmt.Sprintf("devices.%s[%d]", name, len(*l)-1)
}

// rowList edits a list of rows of a few widgets each, with a remove button
// on each and an Add button under them; each row has a line for its
// problems.
type rowList[R any] struct {
	box, list *fyne.Container
	rows      []*listRow[R]
	newRow    func() (R, fyne.CanvasObject)
}

type listRow[R any] struct {
	val  R
	obj  fyne.CanvasObject
	hint *row
}

func newRowList[R any](add string, newRow func() (R, fyne.CanvasObject)) *rowList[R] {
	l := &rowList[R]{list: container.NewVBox(), newRow: newRow}
	l.box = container.NewVBox(l.list, container.NewHBox(widget.NewButtonWithIcon(add, theme.ContentAddIcon(), func() { l.add() })))
	return l
}

func (l *rowList[R]) add() R {
	v, o := l.newRow()
	lr := &listRow[R]{val: v, hint: &row{hint: newHint("")}}
	lr.hint.hint.Hide()
	remove := widget.NewButtonWithIcon("", theme.ContentRemoveIcon(), func() {
		l.rows = slices.DeleteFunc(l.rows, func(o *listRow[R]) bool { return o == lr })
		l.list.Remove(lr.obj)
	})
	lr.obj = container.NewVBox(container.NewBorder(nil, nil, nil, remove, o), lr.hint.hint)
	l.rows = append(l.rows, lr)
	l.list.Add(lr.obj)
	return v
}

// keys registers each row's problem line under path[i].
func (l *rowList[R]) keys(path string) func(add func(string, *row)) {
	return func(add func(string, *row)) {
		for i, r := range l.rows {
			add(fmt.Sprintf("%s[%d]", path, i), r.hint)
		}
	}
}

package ui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/buttonhook/buttonhook/actions"
)

// targetEditor creates or edits a target in tabs: General, Request, Auth,
// Transport, Response, Advanced and Preview. Under the tabs it shows the
// target's warnings as it is typed (they never stop a save) and, after a
// failed save, its problems by field.
type targetEditor struct {
	w    *Window
	orig *actions.Target // nil for a new target
	// key tells this target's keyring names from those of a target with a
	// similar name (see secretName).
	key string

	req   *requestEditor
	auth  *authEditor
	tr    *transportEditor
	resp  *responseEditor
	dyn   *dynamicEditor
	prev  *previewPane
	tabs  *container.AppTabs
	ready bool // set once the fields hold the target: changes before are the editor's own

	warnings, problem *widget.Label
	messages, bottom  *fyne.Container
	save, cancel      *widget.Button
	content           fyne.CanvasObject
	done              func()
	cancelled         bool // Cancel was pressed while secrets were being stored
	// saving counts the goroutines that write the keyring, so that tests
	// can wait for them.
	saving sync.WaitGroup
	// server is the local server's state last shown, to show its problems
	// again when it changes.
	server string
}

// Tab indexes, for problems to show the tab of their field.
const (
	tabGeneral = iota
	tabRequest
	tabAuth
	tabTransport
	tabResponse
	tabAdvanced
	tabDynamic
	tabPreview
)

// newTargetEditor makes an editor for orig, or for a new target when orig
// is nil. done closes its dialog. While it is open, it follows the local
// server's state.
func (w *Window) newTargetEditor(orig *actions.Target, done func()) *targetEditor {
	stopPoll, hide := func() {}, done
	done = func() { stopPoll(); hide() }
	te := &targetEditor{w: w, orig: orig, key: newSecretKey(), done: done}
	id := ""
	if orig != nil && orig.ID != "" {
		te.key, id = orig.ID, orig.ID
	}
	hasStore := w.secrets != nil
	te.req = newRequestEditor(w.Window, te.changed)
	te.auth = newAuthEditor(hasStore, te.changed)
	te.tr = newTransportEditor(w.Window, te.fetchURL, te.changed)
	te.resp = newResponseEditor(hasStore, te.changed)
	te.dyn = w.newDynamicEditor(id, te.changed)
	te.prev = newPreviewPane(func() actions.Target { t, _, _ := te.read(); return t }, w.app.Clipboard())
	te.tabs = container.NewAppTabs(
		container.NewTabItem("General", te.req.general),
		container.NewTabItem("Request", te.req.request),
		container.NewTabItem("Auth", te.auth.tabContent()),
		container.NewTabItem("Transport", container.NewVScroll(container.NewPadded(te.tr.content))),
		container.NewTabItem("Response", te.resp.response),
		container.NewTabItem("Advanced", te.resp.advanced),
		container.NewTabItem("Dynamic URL", te.dyn.content),
		container.NewTabItem("Preview", te.prev.content),
	)
	te.tabs.OnSelected = func(ti *container.TabItem) {
		if ti.Text == "Preview" {
			te.prev.show()
		}
	}
	te.warnings = widget.NewLabel("")
	te.warnings.Wrapping = fyne.TextWrapWord
	te.warnings.Importance = widget.WarningImportance
	te.problem = widget.NewLabel("")
	te.problem.Wrapping = fyne.TextWrapWord
	te.problem.Importance = widget.DangerImportance
	te.problem.Hide()
	te.save = widget.NewButton("Save", te.trySave)
	te.save.Importance = widget.HighImportance
	te.cancel = widget.NewButton("Cancel", func() { te.cancelled = true; done() })
	te.messages = container.NewVBox(te.warnings, te.problem)
	row := container.NewHBox(te.cancel, te.save)
	if orig != nil {
		del := widget.NewButtonWithIcon("Delete", theme.DeleteIcon(), te.confirmDelete)
		del.Importance = widget.DangerImportance
		row = container.NewHBox(del, layout.NewSpacer(), te.cancel, te.save)
	}
	buttons := container.NewVBox(layout.NewSpacer(), row)
	te.bottom = container.NewBorder(nil, nil, nil, buttons, capped(te.messages, 120))
	te.content = container.NewBorder(nil, te.bottom, nil, nil, te.tabs)

	if orig != nil {
		te.req.set(*orig)
		te.auth.set(orig.Auth)
		te.tr.set(*orig)
		te.resp.set(*orig)
		te.dyn.set(*orig)
		te.req.nameRow.setHint("Renaming keeps the target's bindings, secrets and log.")
	}
	te.ready = true
	te.changed()
	if w.srv != nil {
		stopPoll = w.poll(serverPoll, te.serverChanged)
	}
	return te
}

// serverChanged shows the server's state again: the Dynamic URL tab, and
// the warnings when the state changed.
func (te *targetEditor) serverChanged() {
	if st, _ := te.w.serverStatus(); st.State+st.Error != te.server {
		te.server = st.State + st.Error
		te.changed() // refreshes the Dynamic URL tab too
		return
	}
	t, _, _ := te.read()
	te.dyn.refresh(t)
}

// changed shows the warnings of the target as the fields now hold it.
func (te *targetEditor) changed() {
	if !te.ready {
		return
	}
	t, _, _ := te.read()
	te.dyn.refresh(t)
	ws := t.Warnings()
	if p := te.w.serverProblem(t, te.orig != nil && needsServer(*te.orig)); p != "" {
		ws = append(ws, p)
	}
	text := ""
	if len(ws) > 0 {
		text = "⚠ " + strings.Join(ws, "\n⚠ ")
	}
	if text == te.warnings.Text && (text != "") == te.warnings.Visible() {
		return
	}
	te.warnings.SetText(text)
	te.warnings.Hidden = text == ""
	te.relayout()
}

// relayout makes room for the messages under the tabs.
func (te *targetEditor) relayout() {
	te.messages.Refresh()
	te.bottom.Refresh()
	te.content.Refresh()
}

// fetchURL is the URL with sample tag values, for fetching a certificate.
func (te *targetEditor) fetchURL() string {
	t, _, _ := te.read()
	req, err := actions.Build(context.Background(), actions.Target{Method: "GET", URL: t.URL, Query: t.Query}, sampleTags(t))
	if err != nil {
		return t.URL
	}
	return req.URL.String()
}

// read returns the target the fields hold, the secrets to store before it
// is saved, and what cannot be read ("field: message"). The target's
// identity (ID, creation, version) is the original's.
func (te *targetEditor) read() (actions.Target, []secretWrite, []string) {
	var t actions.Target
	if te.orig != nil {
		t = actions.Target{ID: te.orig.ID, Created: te.orig.Created, Updated: te.orig.Updated, Version: te.orig.Version}
	}
	te.req.read(&t)
	te.dyn.read(&t)
	problems := te.tr.read(&t)
	problems = append(problems, te.resp.read(&t)...)
	var writes []secretWrite
	owner := t.Name // whose keyring names the editor made: the saved name, if renamed
	if te.orig != nil {
		owner = te.orig.Name
	}
	ref := func(s *secretField) actions.SecretRef {
		name, ok := ownedSecret(s.existing, owner, s.field)
		if !ok {
			name = secretName(t.Name, te.key, s.field)
		}
		r, w, p := s.ref(name)
		if p != "" {
			problems = append(problems, s.field+": "+p)
		}
		if w != nil {
			writes = append(writes, *w)
		}
		return r
	}
	t.Auth = te.auth.auth(ref)
	if te.resp.sign.Checked {
		t.Signing.Secret = ref(te.resp.signing)
	}
	return t, writes, problems
}

// trySave checks the target, stores its new secrets and saves it; on any
// problem the dialog stays open and shows it.
func (te *targetEditor) trySave() {
	t, writes, problems := te.read()
	if err := t.Validate(); err != nil {
		var ve actions.ValidationError
		if !errors.As(err, &ve) {
			problems = append(problems, err.Error())
		}
		for _, fe := range ve {
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.HasPrefix(p, fe.Field+": ") }) {
				problems = append(problems, fe.Error())
			}
		}
	}
	if len(problems) > 0 {
		// In the order of the tabs, so that the tab shown holds the first.
		slices.SortStableFunc(problems, func(a, b string) int { return tabOrder(a) - tabOrder(b) })
		te.showProblem(strings.Join(problems, "\n"))
		return
	}
	if len(writes) == 0 {
		te.commit(t, nil)
		return
	}
	// The keyring may block while the OS asks to unlock it: write it off
	// the UI goroutine. The goroutine ends when the writes are done.
	te.save.Disable()
	te.setProblem("Storing secrets in the OS keyring…", widget.MediumImportance)
	te.saving.Add(1)
	go func() {
		defer te.saving.Done()
		var stored []secretWrite
		for _, wr := range writes {
			if err := te.w.secrets.Set(wr.name, wr.value); err != nil {
				te.forget(stored)
				msg := fmt.Sprintf("%s: cannot store it in the OS keyring: %v", wr.field, err)
				fyne.Do(func() { te.save.Enable(); te.showProblem(msg) })
				return
			}
			stored = append(stored, wr)
		}
		fyne.Do(func() {
			te.save.Enable()
			if te.cancelled {
				te.saving.Add(1)
				go func() { defer te.saving.Done(); te.forget(stored) }()
				return
			}
			te.commit(t, stored)
		})
	}()
}

// commit saves t, whose new secrets are stored, and closes the editor.
// The engine deletes the keyring secrets the target no longer uses, which
// may block while the OS asks to unlock the keyring: the save runs off the
// UI goroutine.
func (te *targetEditor) commit(t actions.Target, stored []secretWrite) {
	save := te.w.eng.SaveTarget
	if te.orig != nil {
		save = te.w.eng.UpdateTarget // by ID: a new name renames it
	}
	te.save.Disable()
	te.w.sched.background(func() func() {
		err := save(t)
		return func() {
			te.save.Enable()
			if err != nil {
				if len(stored) > 0 {
					te.saving.Add(1)
					go func() { defer te.saving.Done(); te.forget(stored) }()
				}
				te.showProblem(problemText(err))
				return
			}
			msg := "Saved target " + t.Name + "."
			if te.orig == nil {
				msg += " Bind it to a button with New binding."
			}
			if ws := t.Warnings(); len(ws) > 0 {
				msg += " Warning: " + ws[0]
			}
			te.w.setStatus(msg)
			te.done()
		}
	})
}

// forget deletes secrets this save stored under new names, after a save
// that failed. A secret that replaced one the target already had cannot be
// put back. It runs off the UI goroutine.
func (te *targetEditor) forget(stored []secretWrite) {
	old := map[string]bool{}
	if te.orig != nil {
		for _, ref := range te.orig.SecretRefs() {
			old[strings.TrimPrefix(string(ref), "keyring:")] = true
		}
	}
	for _, wr := range stored {
		if !old[wr.name] {
			_ = te.w.secrets.Delete(wr.name) // best effort: the name is unused either way
		}
	}
}

func (te *targetEditor) setProblem(s string, imp widget.Importance) {
	te.problem.Importance = imp
	te.problem.SetText(s)
	te.problem.Show()
	te.relayout()
}

// showProblem shows problems, one per line, and the tab of the first one.
func (te *targetEditor) showProblem(s string) {
	te.setProblem(s, widget.DangerImportance)
	if i := fieldTab(s); i >= 0 {
		te.tabs.SelectIndex(i)
	}
}

// tabOrder sorts problems by their tab; those of no tab go last.
func tabOrder(problem string) int {
	if i := fieldTab(problem); i >= 0 {
		return i
	}
	return tabPreview
}

// fieldTab is the tab that holds the field a problem starts with, or -1.
func fieldTab(problem string) int {
	field, _, _ := strings.Cut(problem, ":")
	field, _, _ = strings.Cut(field, ".")
	field, _, _ = strings.Cut(field, "[")
	switch field {
	case "name", "enabled", "method", "url", "preset":
		return tabGeneral
	case "query", "headers", "body":
		return tabRequest
	case "auth":
		return tabAuth
	case "tls", "timeout", "follow_redirects":
		return tabTransport
	case "success":
		return tabResponse
	case "retry", "async", "signing":
		return tabAdvanced
	case "dynamic":
		return tabDynamic
	}
	return -1
}

// showTargetEditor opens the editor on orig, or on a new target when orig
// is nil.
func (w *Window) showTargetEditor(orig *actions.Target) *targetEditor {
	var d dialog.Dialog
	te := w.newTargetEditor(orig, func() { d.Hide() })
	title := "New target"
	if orig != nil {
		title = "Edit target: " + orig.Name
	}
	d = dialog.NewCustomWithoutButtons(title, te.content, w.Window)
	size := w.Canvas().Size()
	d.Resize(fyne.NewSize(min(880, size.Width-40), min(680, size.Height-40)))
	d.Show()
	return te
}

// confirmDelete asks before deleting the edited target, its bindings and
// the keyring secrets only it used.
func (te *targetEditor) confirmDelete() {
	name := te.orig.Name
	msg := fmt.Sprintf("Delete %s? Its bindings go too, and the secrets it keeps in the OS keyring.\nIts attempts stay in the log.", name)
	dialog.ShowConfirm("Delete target", msg, func(ok bool) {
		if !ok {
			return
		}
		// The engine deletes the target's keyring secrets too, which may
		// block while the OS asks to unlock the keyring: off the UI goroutine.
		id := te.orig.ID
		te.w.sched.background(func() func() {
			err := te.w.eng.DeleteTarget(id)
			return func() {
				if err != nil {
					te.showProblem(err.Error())
					return
				}
				te.w.setStatus("Deleted target " + name + ".")
				te.done()
			}
		})
	}, te.w.Window)
}

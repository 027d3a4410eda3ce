package ui

import (
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/buttonhook/buttonhook/app/engine"
)

// Scopes a new API key can have.
const (
	scopeAll  = "All targets"
	scopeSome = "Only these targets:"
)

// apiKeysView is the API keys dialog: the keys (never the keys themselves:
// name, scope, creation and last use), a form that creates one and shows
// it once, and Revoke.
type apiKeysView struct {
	w *Window

	list    *fyne.Container // one row per key
	name    *widget.Entry
	scope   *widget.RadioGroup
	targets *widget.CheckGroup
	ids     []string          // target IDs, parallel to targets.Options
	choose  fyne.CanvasObject // the targets, shown for scopeSome
	create  *widget.Button
	problem *widget.Label
	content fyne.CanvasObject
}

func (w *Window) newAPIKeysView() *apiKeysView {
	v := &apiKeysView{w: w, list: container.NewVBox(), name: widget.NewEntry()}
	v.name.SetPlaceHolder("who or what uses it, like home server")
	v.targets = widget.NewCheckGroup(nil, nil)
	v.choose = capped(v.targets, 120)
	v.scope = widget.NewRadioGroup([]string{scopeAll, scopeSome}, func(s string) {
		if s == scopeSome {
			v.choose.Show()
		} else {
			v.choose.Hide()
		}
	})
	v.scope.Horizontal = true
	v.scope.Required = true
	v.scope.SetSelected(scopeAll)
	v.create = widget.NewButtonWithIcon("Create key", theme.ContentAddIcon(), v.createKey)
	v.create.Importance = widget.HighImportance
	v.problem = widget.NewLabel("")
	v.problem.Wrapping = fyne.TextWrapWord
	v.problem.Importance = widget.DangerImportance
	v.problem.Hide()

	base, _ := w.serverBase()
	intro := newHint("An API key lets your own server set the URL of dynamic targets: it sends PUT " + base +
		"/api/v1/targets/ID/url with the header Authorization: Bearer KEY (see docs/api.md). " +
		"Buttonhook keeps only a hash of each key, and shows a key once, when it is made.")
	form := widget.NewForm(
		&widget.FormItem{Text: "Name", Widget: v.name},
		&widget.FormItem{Text: "May change", Widget: container.NewVBox(v.scope, v.choose)},
	)
	newKey := container.NewVBox(widget.NewLabelWithStyle("New key", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		form, v.problem, container.NewHBox(layout.NewSpacer(), v.create))
	v.content = container.NewBorder(intro, newKey, nil, nil, container.NewVScroll(v.list))
	v.refresh()
	return v
}

// refresh lists the keys and the targets a new key may change, as the
// engine has them now.
func (v *apiKeysView) refresh() {
	cfg := v.w.eng.Config()
	names := map[string]string{}
	var opts []string
	v.ids = v.ids[:0]
	for _, t := range cfg.Targets {
		names[t.ID] = t.Name
		opt := t.Name
		if !t.Dynamic.Enabled {
			opt += " (not dynamic)"
		}
		opts = append(opts, opt)
		v.ids = append(v.ids, t.ID)
	}
	v.targets.Options = opts
	v.targets.Selected = nil
	v.targets.Refresh()

	v.list.RemoveAll()
	keys := v.w.eng.APIKeys()
	if len(keys) == 0 {
		v.list.Add(widget.NewLabel("No API keys yet."))
	}
	for _, k := range keys {
		title := widget.NewLabelWithStyle(k.Name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		detail := widget.NewLabel(keyScope(k, names) + " · " + keyDates(k))
		detail.Wrapping = fyne.TextWrapWord
		revoke := widget.NewButtonWithIcon("Revoke", theme.DeleteIcon(), func() { v.confirmRevoke(k) })
		revoke.Importance = widget.DangerImportance
		v.list.Add(container.NewBorder(nil, nil, nil, container.NewCenter(revoke), container.NewVBox(title, detail)))
	}
}

// keyScope says which targets k may change, by name.
func keyScope(k engine.APIKey, names map[string]string) string {
	if k.AllTargets {
		return "may change all targets"
	}
	var list []string
	for _, id := range k.Targets {
		n, ok := names[id]
		if !ok {
			n = id + " (deleted)"
		}
		list = append(list, n)
	}
	return "may change " + strings.Join(list, ", ")
}

// keyDates says when k was made and last used.
func keyDates(k engine.APIKey) string {
	used := "never used"
	if !k.LastUsed.IsZero() {
		used = "last used " + k.LastUsed.Local().Format("2006-01-02 15:04")
	}
	return "created " + k.Created.Local().Format("2006-01-02 15:04") + " · " + used
}

// createKey makes a key as the form says and shows it, once.
func (v *apiKeysView) createKey() {
	var targets []string
	all := v.scope.Selected == scopeAll
	if !all {
		for _, sel := range v.targets.Selected {
			if i := slices.Index(v.targets.Options, sel); i >= 0 {
				targets = append(targets, v.ids[i])
			}
		}
	}
	key, k, err := v.w.eng.CreateAPIKey(v.name.Text, targets, all)
	if err != nil {
		v.problem.SetText(err.Error())
		v.problem.Show()
		return
	}
	v.problem.Hide()
	v.name.SetText("")
	v.refresh()
	v.w.setStatus(fmt.Sprintf("Created API key %s.", k.Name))
	v.w.showNewKey(k.Name, key)
}

// showNewKey shows a key just made, with Copy and a warning that it is
// shown only now.
func (w *Window) showNewKey(name, key string) {
	c := w.newCopyable()
	c.set(key)
	warn := widget.NewLabel("Copy the key now: it will not be shown again. Buttonhook keeps only its hash; " +
		"if the key is lost, revoke it and create another.")
	warn.Wrapping = fyne.TextWrapWord
	warn.Importance = widget.WarningImportance
	use := newHint("Your server sends it with each request as the header Authorization: Bearer KEY.")
	d := dialog.NewCustom("API key "+name, "Done", container.NewVBox(warn, c.box, use), w.Window)
	d.Resize(fyne.NewSize(640, 0))
	d.Show()
}

// confirmRevoke asks before revoking k.
func (v *apiKeysView) confirmRevoke(k engine.APIKey) {
	msg := fmt.Sprintf("Revoke the API key %q? Servers that use it are refused from now on. This cannot be undone.", k.Name)
	d := dialog.NewConfirm("Revoke API key", msg, func(ok bool) {
		if !ok {
			return
		}
		if err := v.w.eng.RevokeAPIKey(k.ID); err != nil {
			v.problem.SetText(err.Error())
			v.problem.Show()
			return
		}
		v.refresh()
		v.w.setStatus("Revoked API key " + k.Name + ".")
	}, v.w.Window)
	d.SetConfirmText("Revoke")
	d.SetConfirmImportance(widget.DangerImportance)
	d.SetDismissText("Cancel")
	d.Show()
}

// showAPIKeys opens the API keys dialog.
func (w *Window) showAPIKeys() { w.openAPIKeys() }

func (w *Window) openAPIKeys() *apiKeysView {
	v := w.newAPIKeysView()
	d := dialog.NewCustom("API keys", "Close", v.content, w.Window)
	size := w.Canvas().Size()
	d.Resize(fyne.NewSize(min(680, size.Width-40), min(560, size.Height-40)))
	d.Show()
	return v
}

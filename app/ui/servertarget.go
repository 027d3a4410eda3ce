package ui

import (
	"fmt"
	"net/url"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/buttonhook/buttonhook/actions"
	"github.com/buttonhook/buttonhook/app/server"
)

// dynamicEditor is the target editor's Dynamic URL tab: whether the user's
// own server may set the target's URL through the REST API, the hosts it
// may set it to, the target's API endpoint, the URL set now, and the local
// server's status.
type dynamicEditor struct {
	w  *Window
	id string // the target's ID; "" for a new target

	enabled  *widget.Check
	hosts    *widget.Entry
	secrets  *widget.Label // the rule for a target that sends secrets
	endpoint *copyable
	current  *widget.Label
	server   *widget.Label
	details  *fyne.Container // shown while enabled
	content  fyne.CanvasObject
}

func (w *Window) newDynamicEditor(id string, changed func()) *dynamicEditor {
	d := &dynamicEditor{w: w, id: id, endpoint: w.newCopyable(), current: widget.NewLabel(""),
		hosts: newMultiLine("example.com\n*.example.com", 3, changed)}
	d.enabled = widget.NewCheck("Dynamic URL: your own server sets this target's URL through Buttonhook's REST API", func(on bool) {
		d.details.Hidden = !on
		d.details.Refresh()
		changed()
	})
	d.secrets = newHint("")
	d.current.Wrapping = fyne.TextWrapWord
	d.server = widget.NewLabel("")
	d.server.Wrapping = fyne.TextWrapWord
	intro := newHint("Presses go to the URL your server last set. Until it sets one, they go to the URL on the General tab, " +
		"which a dynamic target may leave empty (presses then fail, saying no URL is set).")

	var f fields
	f.add("Allowed hosts", d.hosts, "One per line: example.com (that host), or *.example.com (its subdomains). "+
		"Empty: only the host of the URL on the General tab.")
	f.add("", d.secrets, "")
	f.add("API endpoint", d.endpoint.box, "PUT {\"url\": \"https://…\"} to it with the header Authorization: Bearer KEY; GET reads the URL, DELETE clears it.")
	f.add("", container.NewHBox(widget.NewButtonWithIcon("API keys…", theme.AccountIcon(), w.showAPIKeys)), "")
	f.add("Current URL", d.current, "")
	f.add("Local server", d.server, "")
	d.details = f.container()
	d.details.Hide()
	d.content = container.NewVScroll(container.NewPadded(container.NewVBox(d.enabled, intro, d.details)))
	return d
}

// set shows t's dynamic settings.
func (d *dynamicEditor) set(t actions.Target) {
	d.hosts.SetText(strings.Join(t.Dynamic.Hosts, "\n"))
	d.enabled.SetChecked(t.Dynamic.Enabled)
}

// read fills in t's dynamic settings: the hosts one per line (or
// separated by commas or spaces).
func (d *dynamicEditor) read(t *actions.Target) {
	if !d.enabled.Checked {
		return
	}
	t.Dynamic = actions.Dynamic{Enabled: true, Hosts: strings.FieldsFunc(d.hosts.Text, func(r rune) bool {
		return r == '\n' || r == ',' || r == ' ' || r == '\t' || r == '\r'
	})}
}

// refresh shows where the API may point t, its endpoint, the URL set now
// and the server's status.
func (d *dynamicEditor) refresh(t actions.Target) {
	var rule string
	switch host := urlHost(t.URL); {
	case len(t.Dynamic.Hosts) > 0:
		rule = "The API may point this target only at the hosts listed above."
	case host != "":
		rule = "With no hosts listed, the API may point this target only at " + host + ", the host of the URL on the General tab."
	default:
		rule = "List the hosts the API may point this target at: with none listed and no URL on the General tab, no URL can be set."
	}
	if carriers := t.SecretCarriers(); len(carriers) > 0 {
		rule += " It sends secrets (" + strings.Join(carriers, ", ") + "), so only to https:// URLs (or http:// on this computer)."
	}
	setText(d.secrets, rule)

	base, running := d.w.serverBase()
	if d.id == "" {
		d.endpoint.set("")
		setText(d.endpoint.text, "Save the target first: its endpoint holds the target's ID.")
	} else {
		d.endpoint.set(base + "/api/v1/targets/" + d.id + "/url")
	}

	setText(d.current, d.currentURL(t))
	st, ok := d.w.serverStatus()
	text, imp := describeServer(st, ok)
	if !running && ok && st.State == server.StateOff && t.Dynamic.Enabled {
		text += " It starts when this target is saved as dynamic."
	}
	d.server.Importance = imp
	setText(d.server, text)
}

// currentURL says which URL the target's presses go to now.
func (d *dynamicEditor) currentURL(t actions.Target) string {
	fallback := "the URL on the General tab"
	if t.URL == "" {
		fallback = "nowhere: with no URL on the General tab, presses fail until your server sets one"
	}
	if d.id == "" {
		return "None yet: presses go to " + fallback + "."
	}
	u, err := d.w.eng.DynamicURL(d.id)
	switch {
	case err != nil: // not saved as dynamic yet
		return "None yet: presses go to " + fallback + "."
	case u.URL == "":
		return "None set by your server yet: presses go to " + fallback + "."
	}
	return fmt.Sprintf("%s, set %s.", actions.RedactURL(u.URL), u.Set.Local().Format("2006-01-02 15:04:05"))
}

// urlHost is the host of a target's URL; "" when it has none, or tags in
// its host.
func urlHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || strings.Contains(u.Host, "<") {
		return ""
	}
	return u.Hostname()
}

// serverProblem says why the local server cannot serve t (its async
// callbacks or its dynamic URL) now; "" when it can, or t needs no server.
// saved says whether the saved config already needs the server for t.
func (w *Window) serverProblem(t actions.Target, saved bool) string {
	st, ok := w.serverStatus()
	if !ok || !needsServer(t) || st.State == server.StateRunning {
		return ""
	}
	what := "the REST API cannot set this target's URL"
	if t.Async.Enabled {
		what = "async callbacks cannot reach Buttonhook, so this target's presses fail with no callback"
	}
	switch {
	case st.State == server.StateFailed:
		return fmt.Sprintf("The local server cannot run: %s. Until it does, %s.", st.Error, what)
	case saved:
		return fmt.Sprintf("The local server is off (%s): until it runs, %s.", st.Reason, what)
	}
	return ""
}

// needsServer reports whether t needs the local server, as the engine
// decides it (engine.ServerNeeded): an enabled async target, or a dynamic
// one.
func needsServer(t actions.Target) bool { return t.Async.Enabled && t.Enabled || t.Dynamic.Enabled }

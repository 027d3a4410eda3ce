package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/buttonhook/buttonhook/actions"
)

var presetKinds = []actions.PresetKind{actions.PresetNone, actions.PresetSlack, actions.PresetTeams, actions.PresetMattermost, actions.PresetDiscord}

var bodyKinds = []struct {
	kind  actions.BodyKind
	label string
}{
	{actions.BodyNone, "None"},
	{actions.BodyJSON, "JSON"},
	{actions.BodyForm, "Form (URL-encoded)"},
	{actions.BodyMultipart, "Multipart form (with files)"},
	{actions.BodyRaw, "Raw, with a content type"},
	{actions.BodyText, "Plain text"},
}

// requestEditor is the General and Request tabs: what is sent where.
type requestEditor struct {
	name, url, message, channel *widget.Entry
	enabled                     *widget.Check
	method, preset, bodyKind    *widget.Select
	query, headers, form        *kvRows
	json, text, contentType     *widget.Entry

	nameRow, methodRow, messageRow, channelRow, urlRow *row
	bodyRows                                           map[string]*row
	presetNote                                         *widget.Label
	general, request                                   fyne.CanvasObject
}

func newRequestEditor(win fyne.Window, changed func()) *requestEditor {
	r := &requestEditor{
		name:        newEntry("Door bell", changed),
		url:         newEntry("https://example.com/hook?who=<NAME>", changed),
		message:     newMultiLine("<NAME> was pressed at <TIME>", 3, changed),
		channel:     newEntry("town-square or @someone", changed),
		enabled:     widget.NewCheck("Enabled: presses send this request", func(bool) { changed() }),
		query:       newKVRows("parameter", "name", "value, tags allowed", win, changed),
		headers:     newKVRows("header", "Header-Name", "value, tags allowed", win, changed),
		form:        newKVRows("field", "name", "value, or file:/path for an upload", win, changed),
		json:        newMultiLine(`{"event": "<ETYPE>", "id": "<EID>", "at": "<DATETIME>"}`, 8, changed),
		text:        newMultiLine("<NAME> was pressed", 8, changed),
		contentType: newEntry("application/xml", changed),
	}
	r.message.Wrapping = fyne.TextWrapWord
	r.message.TextStyle = fyne.TextStyle{}
	r.method = widget.NewSelect(actions.Methods, func(string) { changed() })
	presets := make([]string, len(presetKinds))
	for i, k := range presetKinds {
		presets[i] = k.Label()
	}
	presets[0] = "None: write the request yourself"
	r.preset = widget.NewSelect(presets, func(string) { r.showPreset(); changed() })
	kinds := make([]string, len(bodyKinds))
	for i, k := range bodyKinds {
		kinds[i] = k.label
	}
	r.bodyKind = widget.NewSelect(kinds, func(string) { r.showBody(); changed() })

	var g fields
	r.nameRow = g.add("Name", r.name, "Letters, digits, -, ' and spaces.")
	g.add("", r.enabled, "")
	g.add("Service", r.preset, "A chat service's incoming webhook: Buttonhook writes the request from your message.")
	r.messageRow = g.add("Message", r.message, "What the chat shows; tags like <NAME> are filled in.")
	r.channelRow = g.add("Channel", r.channel, "Optional: a channel name or @user; empty posts where the webhook points.")
	r.methodRow = g.add("Method", r.method, "")
	r.urlRow = g.add("URL", r.url, "")
	r.general = container.NewVScroll(container.NewPadded(g.container()))

	var q fields
	q.add("Tags", container.NewHBox(widget.NewButtonWithIcon("Tags you can use…", theme.InfoIcon(), func() { showTags(win) })),
		"<NAME>, <DATETIME>, <EID> and the others are filled in when a request is sent; write << for a literal <.")
	q.add("Query", r.query.box, "Added to the URL's query string.")
	q.add("Headers", r.headers.box, "Not for secrets: use the Auth tab, which keeps them in the keyring.")
	r.presetNote = widget.NewLabel("")
	r.presetNote.Wrapping = fyne.TextWrapWord
	r.presetNote.Importance = widget.MediumImportance
	r.bodyRows = map[string]*row{
		"preset":       q.add("Body", r.presetNote, ""),
		"kind":         q.add("Body", r.bodyKind, ""),
		"json":         q.add("", r.json, "Tags are filled in inside strings; <UNIXTIME> and the counters may stand alone as numbers."),
		"form":         q.add("", r.form.box, ""),
		"content_type": q.add("Content type", r.contentType, "JSON, XML and URL-encoded types get their tag values escaped to match."),
		"text":         q.add("", r.text, ""),
	}
	r.request = container.NewVScroll(container.NewPadded(q.container()))
	r.set(actions.Target{Enabled: true, Method: "POST", Body: actions.Body{Kind: actions.BodyJSON}})
	return r
}

func (r *requestEditor) presetKind() actions.PresetKind {
	return presetKinds[max(r.preset.SelectedIndex(), 0)]
}

func (r *requestEditor) bodyKindSelected() actions.BodyKind {
	return bodyKinds[max(r.bodyKind.SelectedIndex(), 0)].kind
}

// showPreset hides what a preset decides (method and body) and shows its
// message and channel.
func (r *requestEditor) showPreset() {
	p := r.presetKind()
	r.messageRow.show(p != actions.PresetNone)
	r.channelRow.show(p == actions.PresetMattermost)
	r.methodRow.show(p == actions.PresetNone)
	switch p {
	case actions.PresetNone:
		r.urlRow.setHint("Tags like <NAME> or <EID> are filled in; http:// or https://.")
	case actions.PresetMattermost:
		r.urlRow.setHint("The incoming webhook's URL from Mattermost (http:// is allowed for your own server).")
	default:
		r.urlRow.setHint("The webhook URL " + p.Label() + " gave you (https://).")
	}
	r.presetNote.SetText("POST with a JSON body that " + p.Label() + " understands, made from the message on the General tab.")
	r.showBody()
}

func (r *requestEditor) showBody() {
	preset := r.presetKind() != actions.PresetNone
	k := r.bodyKindSelected()
	r.bodyRows["preset"].show(preset)
	r.bodyRows["kind"].show(!preset)
	r.bodyRows["json"].show(!preset && k == actions.BodyJSON)
	r.bodyRows["form"].show(!preset && (k == actions.BodyForm || k == actions.BodyMultipart))
	r.bodyRows["content_type"].show(!preset && k == actions.BodyRaw)
	r.bodyRows["text"].show(!preset && (k == actions.BodyRaw || k == actions.BodyText))
	r.form.showFiles(k == actions.BodyMultipart)
	hint := "Tags are filled in as they are."
	if k == actions.BodyMultipart {
		hint = "A value file:/absolute/path uploads that file (use the folder button to choose one)."
	}
	r.bodyRows["form"].setHint(hint)
	r.bodyRows["text"].setHint("Tags are filled in as they are.")
}

// set shows t's request.
func (r *requestEditor) set(t actions.Target) {
	r.name.SetText(t.Name)
	r.enabled.SetChecked(t.Enabled)
	r.method.SetSelected(t.Method)
	r.url.SetText(t.URL)
	for i, k := range presetKinds {
		if k == t.Preset.Kind {
			r.preset.SetSelectedIndex(i)
		}
	}
	r.message.SetText(t.Preset.Message)
	r.channel.SetText(t.Preset.Channel)
	r.query.set(t.Query)
	r.headers.set(t.Headers)
	for i, k := range bodyKinds {
		if k.kind == t.Body.Kind {
			r.bodyKind.SetSelectedIndex(i)
		}
	}
	r.json.SetText(t.Body.JSON)
	r.form.set(t.Body.Form)
	r.text.SetText(t.Body.Text)
	r.contentType.SetText(t.Body.ContentType)
	r.showPreset()
}

// read fills in t's request fields. Only the selected body kind's fields
// are kept; a JSON body left empty is no body.
func (r *requestEditor) read(t *actions.Target) {
	t.Name = strings.TrimSpace(r.name.Text)
	t.Enabled = r.enabled.Checked
	t.Method = r.method.Selected
	t.URL = strings.TrimSpace(r.url.Text)
	t.Query = r.query.kvs()
	t.Headers = r.headers.kvs()
	if p := r.presetKind(); p != actions.PresetNone {
		t.Preset = actions.Preset{Kind: p, Message: r.message.Text}
		if p == actions.PresetMattermost {
			t.Preset.Channel = strings.TrimSpace(r.channel.Text)
		}
	}
	switch k := r.bodyKindSelected(); k {
	case actions.BodyJSON:
		if strings.TrimSpace(r.json.Text) != "" {
			t.Body = actions.Body{Kind: k, JSON: r.json.Text}
		}
	case actions.BodyForm, actions.BodyMultipart:
		t.Body = actions.Body{Kind: k, Form: r.form.kvs()}
	case actions.BodyRaw:
		t.Body = actions.Body{Kind: k, Text: r.text.Text, ContentType: strings.TrimSpace(r.contentType.Text)}
	case actions.BodyText:
		t.Body = actions.Body{Kind: k, Text: r.text.Text}
	}
}

// tagHelp describes each tag, for the Tags popup.
var tagHelp = map[string]string{
	"DATE":           "the date of the press, 2006-01-02",
	"TIME":           "the time of the press, 15:04:05",
	"DATETIME":       "date and time, RFC 3339 (2006-01-02T15:04:05+01:00)",
	"UNIXTIME":       "seconds since 1970 (a number)",
	"NAME":           "the button's name",
	"ID":             "the target's ID",
	"DEVICEID":       "the device's ID",
	"EID":            "the attempt's unique trigger ID",
	"ETYPE":          "pressed, pressed-long, pressed-double, test or manual",
	"COUNTER":        "presses of the button, every gesture (a number)",
	"COUNTER_PRESS":  "short presses (a number)",
	"COUNTER_LONG":   "long presses (a number)",
	"COUNTER_DOUBLE": "double presses (a number)",
	"TARGET":         "this target's name",
	"HOSTNAME":       "this computer's name",
	"CALLBACKURL":    "the single-use URL an async server reports to",
}

// showTags shows the tags Buttonhook fills in.
func showTags(win fyne.Window) {
	var f fields
	for _, name := range actions.TagNames() {
		l := widget.NewLabel(tagHelp[name])
		l.Wrapping = fyne.TextWrapWord
		f.objs = append(f.objs, widget.NewLabelWithStyle("<"+name+">", fyne.TextAlignLeading, fyne.TextStyle{Monospace: true}), l)
	}
	intro := widget.NewLabel("Write these in the URL, query, headers, body or message: each is replaced by its value, " +
		"escaped for where it lands. Write << for a literal <, so <<NAME> sends the text <NAME>. " +
		"Only upper-case names are tags.")
	intro.Wrapping = fyne.TextWrapWord
	d := dialog.NewCustom("Tags", "Close", container.NewBorder(intro, nil, nil, nil, container.NewVScroll(f.container())), win)
	d.Resize(fyne.NewSize(620, 560))
	d.Show()
}

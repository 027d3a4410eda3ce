package ui

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/buttonhook/buttonhook/actions"
	"github.com/buttonhook/buttonhook/app/engine"
	"github.com/buttonhook/buttonhook/storage"
)

// previewPane is the Preview tab: the exact request a press would send,
// with sample tag values and every secret masked, and Copy as cURL. It
// reads only secret references, never secrets.
type previewPane struct {
	target    func() actions.Target
	clipboard fyne.Clipboard

	text    *widget.Label
	state   *widget.Label
	refresh *widget.Button
	copy    *widget.Button
	content fyne.CanvasObject
}

func newPreviewPane(target func() actions.Target, clipboard fyne.Clipboard) *previewPane {
	p := &previewPane{target: target, clipboard: clipboard}
	p.text = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	p.text.Selectable = true
	p.text.Wrapping = fyne.TextWrapBreak
	p.state = newHint("")
	p.refresh = widget.NewButtonWithIcon("Refresh", theme.ViewRefreshIcon(), p.show)
	p.copy = widget.NewButtonWithIcon("Copy as cURL", theme.ContentCopyIcon(), p.copyCurl)
	top := container.NewVBox(
		container.NewHBox(p.refresh, p.copy),
		newHint("The request a press would send now, with sample tag values. Secrets show as ***; nothing is sent."),
	)
	p.content = container.NewBorder(container.NewPadded(top), container.NewPadded(p.state), nil, nil,
		container.NewVScroll(container.NewPadded(p.text)))
	return p
}

// sampleTags are the tag values of a preview, as a test press would have.
func sampleTags(t actions.Target) actions.Tags {
	now := time.Now()
	host, _ := os.Hostname()
	tags := actions.Tags{Time: now, EID: storage.NewAttemptID(now), EType: actions.ETypeTest,
		Name: "button 1", DeviceID: "serial:SAMPLE", Target: t.Name, TargetID: t.ID, Hostname: host,
		Counter: 1, CounterPress: 1}
	if t.Async.Enabled {
		tags.CallbackURL = fmt.Sprintf("http://127.0.0.1:%d/callback/SAMPLE-TOKEN", engine.DefaultServerPort)
	}
	return tags
}

// show renders the preview of the target as the editor holds it.
func (p *previewPane) show() {
	t := p.target()
	s, err := actions.Preview(t, sampleTags(t))
	if err != nil {
		p.text.SetText("")
		p.setState("Cannot build the request: "+err.Error(), widget.DangerImportance)
		return
	}
	p.text.SetText(s)
	p.setState("Previewed at "+time.Now().Format("15:04:05")+".", widget.MediumImportance)
}

// curlVarRE finds the shell variables CurlCommand writes for secrets.
var curlVarRE = regexp.MustCompile(`\$(BUTTONHOOK_[A-Z0-9_]+)`)

// copyCurl puts the request as a curl command on the clipboard. Secrets
// are shell variables in it, named in the state line.
func (p *previewPane) copyCurl() {
	t := p.target()
	cmd, err := actions.CurlCommand(t, sampleTags(t))
	if err != nil {
		p.setState("Cannot build the request: "+err.Error(), widget.DangerImportance)
		return
	}
	p.clipboard.SetContent(cmd)
	var vars []string
	for _, m := range curlVarRE.FindAllStringSubmatch(cmd, -1) {
		if !slices.Contains(vars, m[1]) {
			vars = append(vars, m[1])
		}
	}
	msg := "Copied the curl command."
	if len(vars) > 0 {
		msg += " Set " + strings.Join(vars, ", ") + " in your shell before running it: secrets are not copied."
	}
	p.setState(msg, widget.SuccessImportance)
}

func (p *previewPane) setState(s string, imp widget.Importance) {
	p.state.Importance = imp
	p.state.SetText(s)
}

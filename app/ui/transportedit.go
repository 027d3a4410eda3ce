package ui

import (
	"context"
	"fmt"
	"strconv"
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

// TLS modes, as the editor names them.
const (
	tlsVerify   = "Verify the certificate (recommended)"
	tlsPin      = "Pin the server's certificate (self-signed servers)"
	tlsCA       = "Trust my own certificate authority"
	tlsInsecure = "Skip verification (insecure)"
)

// transportEditor is the Transport tab: deadline, redirects and TLS.
type transportEditor struct {
	win     fyne.Window
	timeout *widget.Entry
	follow  *widget.Check
	tlsMode *widget.RadioGroup
	pin     *widget.Entry
	caPEM   *widget.Entry
	fetch   *widget.Button
	// pinState says what Fetch found or why it failed.
	pinState *widget.Label
	// fetches counts Fetch's goroutines, so that tests can wait for them.
	fetches sync.WaitGroup

	pinRow, caRow, insecureRow *row
	content                    fyne.CanvasObject
}

func newTransportEditor(win fyne.Window, url func() string, changed func()) *transportEditor {
	te := &transportEditor{
		win:     win,
		timeout: newEntry(strconv.Itoa(int(actions.DefaultTimeout.Seconds())), changed),
		follow:  widget.NewCheck(fmt.Sprintf("Follow redirects (up to %d)", actions.MaxRedirects), func(bool) { changed() }),
		pin:     newMultiLine("AB:CD:EF:… (64 hex digits)", 2, changed),
		caPEM:   newMultiLine("-----BEGIN CERTIFICATE-----\n…\n-----END CERTIFICATE-----", 6, changed),
	}
	te.pin.Wrapping = fyne.TextWrapBreak
	te.pinState = newHint("")
	te.pinState.Hide()
	te.fetch = widget.NewButtonWithIcon("Fetch from server", theme.DownloadIcon(), func() { te.fetchPin(url()) })
	te.tlsMode = widget.NewRadioGroup([]string{tlsVerify, tlsPin, tlsCA, tlsInsecure}, func(string) { te.showTLS(); changed() })
	te.tlsMode.Required = true
	danger := widget.NewLabel("The server's identity is not checked: anyone on the network path can read and change " +
		"the requests, secrets included. Pin the server's certificate instead.")
	danger.Wrapping = fyne.TextWrapWord
	danger.Importance = widget.DangerImportance

	var f fields
	f.add("Timeout", narrow(te.timeout, "seconds"), fmt.Sprintf("How long one attempt may take in all, %d to %d seconds.",
		int(actions.MinTimeout.Seconds()), int(actions.MaxTimeout.Seconds())))
	f.add("Redirects", te.follow, "Off: a 3xx answer is a failure. Never from https to http; secrets are dropped when a redirect leaves the server.")
	f.add("TLS", te.tlsMode, "Applies to https:// URLs only.")
	te.pinRow = f.add("SHA-256", container.NewVBox(te.pin, container.NewHBox(te.fetch), te.pinState),
		"Only the certificate with this fingerprint is accepted; nothing else about it is checked.")
	te.caRow = f.add("CA (PEM)", te.caPEM, "These certificates are trusted instead of the system's.")
	te.insecureRow = f.add("", danger, "")
	te.content = f.container()
	te.set(actions.Target{})
	return te
}

func (te *transportEditor) showTLS() {
	te.pinRow.show(te.tlsMode.Selected == tlsPin)
	te.caRow.show(te.tlsMode.Selected == tlsCA)
	te.insecureRow.show(te.tlsMode.Selected == tlsInsecure)
}

func (te *transportEditor) set(t actions.Target) {
	te.timeout.SetText("")
	if t.Timeout != 0 {
		te.timeout.SetText(strconv.Itoa(int(t.Timeout)))
	}
	te.follow.SetChecked(t.Follow)
	te.pin.SetText(t.TLS.PinSHA256)
	te.caPEM.SetText(t.TLS.CAPEM)
	switch {
	case t.TLS.PinSHA256 != "":
		te.tlsMode.SetSelected(tlsPin)
	case t.TLS.CAPEM != "":
		te.tlsMode.SetSelected(tlsCA)
	case t.TLS.Insecure:
		te.tlsMode.SetSelected(tlsInsecure)
	default:
		te.tlsMode.SetSelected(tlsVerify)
	}
	te.showTLS()
}

// read fills in t's transport fields, or says what cannot be read.
func (te *transportEditor) read(t *actions.Target) (problems []string) {
	if s := strings.TrimSpace(te.timeout.Text); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			problems = append(problems, fmt.Sprintf("timeout: %q is not a whole number of seconds", s))
		}
		t.Timeout = actions.Seconds(n)
	}
	t.Follow = te.follow.Checked
	switch te.tlsMode.Selected {
	case tlsPin:
		t.TLS = actions.TLS{PinSHA256: strings.Join(strings.Fields(te.pin.Text), "")}
		if t.TLS.PinSHA256 == "" {
			problems = append(problems, "tls.pin_sha256: paste the fingerprint, or fetch it from the server")
		}
	case tlsCA:
		t.TLS = actions.TLS{CAPEM: te.caPEM.Text}
		if strings.TrimSpace(t.TLS.CAPEM) == "" {
			problems = append(problems, "tls.ca_pem: paste the CA certificate (PEM)")
		}
	case tlsInsecure:
		t.TLS = actions.TLS{Insecure: true}
	}
	return problems
}

// fetchPin connects to rawURL's server, shows the certificate it presents
// and, when the user confirms, fills in its fingerprint. The connection is
// made on its own goroutine, which ends within the handshake deadline.
func (te *transportEditor) fetchPin(rawURL string) {
	if !strings.HasPrefix(strings.ToLower(rawURL), "https://") {
		te.setPinState("Write an https:// URL on the General tab first.", widget.DangerImportance)
		return
	}
	te.fetch.Disable()
	te.setPinState("Connecting…", widget.MediumImportance)
	te.fetches.Add(1)
	go func() {
		defer te.fetches.Done()
		ctx, cancel := context.WithTimeout(context.Background(), actions.ConnectTimeout+actions.HandshakeTimeout)
		defer cancel()
		fp, subject, err := actions.FetchFingerprint(ctx, rawURL)
		fyne.Do(func() {
			te.fetch.Enable()
			if err != nil {
				te.setPinState(err.Error(), widget.DangerImportance)
				return
			}
			te.setPinState("", widget.MediumImportance)
			te.confirmPin(fp, subject)
		})
	}()
}

func (te *transportEditor) setPinState(s string, imp widget.Importance) {
	te.pinState.Importance = imp
	te.pinState.SetText(s)
	if s == "" {
		te.pinState.Hide()
	} else {
		te.pinState.Show()
	}
}

// confirmPin asks whether to trust the certificate the server presented.
func (te *transportEditor) confirmPin(fp, subject string) {
	text := func(s string, style fyne.TextStyle) *widget.Label {
		l := widget.NewLabelWithStyle(s, fyne.TextAlignLeading, style)
		l.Wrapping = fyne.TextWrapWord
		return l
	}
	fpLabel := text(fp, fyne.TextStyle{Monospace: true})
	fpLabel.Wrapping = fyne.TextWrapBreak
	msg := container.NewVBox(
		text("The server presented this certificate:", fyne.TextStyle{}),
		container.New(layout.NewFormLayout(),
			widget.NewLabelWithStyle("Subject", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), text(subject, fyne.TextStyle{}),
			widget.NewLabelWithStyle("SHA-256", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), fpLabel),
		text("Pin it only if you know this is your server: compare the fingerprint with the one on the server "+
			"(openssl x509 -noout -fingerprint -sha256 -in cert.pem). Requests will then accept this certificate and no other.", fyne.TextStyle{}),
	)
	d := dialog.NewCustomConfirm("Pin this certificate?", "Pin", "Cancel", msg, func(ok bool) {
		if ok {
			te.pin.SetText(fp)
			te.setPinState("Pinned the certificate of "+subject+".", widget.SuccessImportance)
		}
	}, te.win)
	d.Resize(fyne.NewSize(600, 0))
	d.Show()
}

// responseEditor is the Response tab (the success rule) and the Advanced
// tab (retries, async, signing).
type responseEditor struct {
	statusMin, statusMax *widget.Entry
	pointer, equals      *widget.Entry
	regexp               *widget.Entry
	tries                *widget.Entry
	async                *widget.Check
	asyncTimeout         *widget.Entry
	sign                 *widget.Check
	signing              *secretField

	asyncRow, signRow  *row
	response, advanced fyne.CanvasObject
}

func newResponseEditor(hasStore bool, changed func()) *responseEditor {
	r := &responseEditor{
		statusMin:    newEntry("200", changed),
		statusMax:    newEntry("299", changed),
		pointer:      newEntry("/status", changed),
		equals:       newEntry(`"ok"`, changed),
		regexp:       newEntry(`^OK\b`, changed),
		tries:        newEntry("1", changed),
		asyncTimeout: newEntry(strconv.Itoa(int(actions.DefaultAsyncTimeout.Seconds())), changed),
		signing:      newSecretField("signing.secret", "the signing secret", "whsec_…", hasStore, changed),
	}
	r.async = widget.NewCheck("Wait for the server's callback (async)", func(bool) { r.show(); changed() })
	r.sign = widget.NewCheck("Sign each request (Standard Webhooks)", func(bool) { r.show(); changed() })

	var f fields
	f.add("Status", container.NewHBox(narrow(r.statusMin, "to"), narrow(r.statusMax, "")),
		"The HTTP status range; default 200 to 299.")
	f.add("JSON pointer", r.pointer, "Where in the JSON response to look, like /status or /items/0/ok.")
	f.add("Equals", r.equals, `The value there: JSON ("ok" with quotes, 42, true) or plain text.`)
	f.add("Regexp", r.regexp, "Must match somewhere in the body (Go RE2 syntax; anchor with ^ and $).")
	intro := widget.NewLabel("A response is a success when every rule that is set holds.")
	r.response = container.NewVScroll(container.NewPadded(container.NewVBox(intro, f.container())))

	var a fields
	a.add("Tries", narrow(r.tries, ""), fmt.Sprintf("1 (no retries) to %d. Only network errors, 5xx and 429 are retried, with backoff; each try is logged.", actions.MaxTries))
	a.add("Async", r.async, "The server answers at once and reports the result later to <CALLBACKURL> (also sent as the "+actions.CallbackHeader+" header).")
	r.asyncRow = a.add("Callback wait", narrow(r.asyncTimeout, "seconds"), "How long to wait for the callback; default 60 seconds, at most a day.")
	a.add("Signing", r.sign, "Adds webhook-id, webhook-timestamp and webhook-signature headers the server can verify.")
	r.signRow = a.add("Secret", r.signing.box, "")
	r.advanced = container.NewVScroll(container.NewPadded(a.container()))
	r.set(actions.Target{})
	return r
}

func (r *responseEditor) show() {
	r.asyncRow.show(r.async.Checked)
	r.signRow.show(r.sign.Checked)
}

func itoa0(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

func (r *responseEditor) set(t actions.Target) {
	r.statusMin.SetText(itoa0(t.Success.StatusMin))
	r.statusMax.SetText(itoa0(t.Success.StatusMax))
	r.pointer.SetText(t.Success.JSONPointer)
	r.equals.SetText(t.Success.Equals)
	r.regexp.SetText(t.Success.Regexp)
	r.tries.SetText(itoa0(t.Retry.MaxTries))
	r.async.SetChecked(t.Async.Enabled)
	r.asyncTimeout.SetText(itoa0(int(t.Async.Timeout)))
	r.sign.SetChecked(t.Signing.Secret != "")
	r.signing.set(t.Signing.Secret)
	r.show()
}

// read fills in t's response and advanced fields, or says what cannot be
// read. The signing secret is the caller's (see targetEditor.read).
func (r *responseEditor) read(t *actions.Target) (problems []string) {
	num := func(field string, e *widget.Entry) int {
		s := strings.TrimSpace(e.Text)
		if s == "" {
			return 0
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %q is not a whole number", field, s))
		}
		return n
	}
	t.Success = actions.SuccessRule{
		StatusMin: num("success.status_min", r.statusMin), StatusMax: num("success.status_max", r.statusMax),
		JSONPointer: strings.TrimSpace(r.pointer.Text), Equals: r.equals.Text, Regexp: r.regexp.Text,
	}
	t.Retry.MaxTries = num("retry.max_tries", r.tries)
	if r.async.Checked {
		t.Async = actions.Async{Enabled: true, Timeout: actions.Seconds(num("async.timeout", r.asyncTimeout))}
	}
	return problems
}

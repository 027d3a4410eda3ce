package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/buttonhook/buttonhook/actions"
)

// TestPreviewMasksSecretHeaders checks that the Preview tab and its curl
// command hide every header that redirects strip: the API-key auth's own
// header, whatever its name, and secret-looking headers set by hand.
func TestPreviewMasksSecretHeaders(t *testing.T) {
	a := test.NewTempApp(t)
	tests := []struct {
		name   string
		target actions.Target
		masked []string // header names
		shown  []string // whole lines
		vars   []string // what the state line says to set for curl
	}{
		{"api key auth with its own header",
			actions.Target{Auth: actions.Auth{Kind: actions.AuthAPIKey, Header: "X-Door-Key", Key: "env:DOOR_KEY"},
				Headers: []actions.KV{{Key: "Authorization", Value: "Basic hand-set-credentials"}, {Key: "X-Button", Value: "visible"}}},
			[]string{"X-Door-Key", "Authorization"}, []string{"X-Button: visible"},
			[]string{actions.CurlAPIKeyVar, "BUTTONHOOK_AUTHORIZATION"}},
		{"secret headers set by hand",
			actions.Target{Headers: []actions.KV{{Key: "X-Api-Key", Value: "hand-set-key-1"}, {Key: "X-Auth-Token", Value: "hand-set-token"},
				{Key: "X-Idempotency-Key", Value: "visible-idem"}}},
			[]string{"X-Api-Key", "X-Auth-Token"}, []string{"X-Idempotency-Key: visible-idem"},
			[]string{"BUTTONHOOK_X_API_KEY", "BUTTONHOOK_X_AUTH_TOKEN"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := tt.target
			tg.Name, tg.Method, tg.URL = "Door", "POST", "https://example.com/hook"
			p := newPreviewPane(func() actions.Target { return tg }, a.Clipboard())
			test.Tap(p.refresh)
			text := p.text.Text
			for _, h := range tt.masked {
				if !strings.Contains(text, "\n"+h+": ***\n") && !strings.Contains(text, "\n"+h+": Basic ***\n") {
					t.Errorf("preview does not mask %s:\n%s", h, text)
				}
			}
			for _, line := range tt.shown {
				if !strings.Contains(text, "\n"+line+"\n") {
					t.Errorf("preview lacks %q:\n%s", line, text)
				}
			}
			test.Tap(p.copy)
			clip := a.Clipboard().Content()
			for _, out := range []string{text, clip} {
				for _, secret := range []string{"hand-set", "env:", "DOOR_KEY"} {
					if strings.Contains(out, secret) {
						t.Errorf("%q shows %q", out, secret)
					}
				}
			}
			for _, v := range tt.vars {
				if !strings.Contains(clip, `"$`+v+`"`) || !strings.Contains(p.state.Text, v) {
					t.Errorf("curl command or state line lacks $%s:\n%s\nstate: %s", v, clip, p.state.Text)
				}
			}
		})
	}
}

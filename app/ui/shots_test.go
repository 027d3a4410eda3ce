package ui

import (
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"github.com/buttonhook/buttonhook/actions"
)

// TestEditorScreenshots renders the target editor to PNG files in
// $BUTTONHOOK_SHOTS, for looking at its layout (docs/screenshot-editor.png
// is editor-General.png).
func TestEditorScreenshots(t *testing.T) {
	dir := os.Getenv("BUTTONHOOK_SHOTS")
	if dir == "" {
		t.Skip("set BUTTONHOOK_SHOTS to a directory to render the editor")
	}
	w, e := newWindow(t)
	fyne.CurrentApp().Settings().SetTheme(theme.DarkTheme())
	w.SetSecretStore(&fakeSecrets{})
	shot := func(name string) {
		t.Helper()
		f, err := os.Create(filepath.Join(dir, name+".png"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := png.Encode(f, w.Canvas().Capture()); err != nil {
			t.Fatal(err)
		}
	}
	closeAll := func() {
		for w.Canvas().Overlays().Top() != nil {
			w.Canvas().Overlays().Remove(w.Canvas().Overlays().Top())
		}
	}
	areas := everyArea(t)
	for _, tg := range areas {
		if err := e.SaveTarget(tg); err != nil {
			t.Fatal(err)
		}
	}
	w.readState()
	w.logs.reload()
	shot("main")

	te := w.showTargetEditor(&w.config.Targets[2])
	for i, ti := range te.tabs.Items {
		te.tabs.SelectIndex(i)
		shot("editor-" + ti.Text)
	}
	te.tr.confirmPin(actions.Fingerprint([]byte("x")), "CN=printer.local")
	shot("editor-pin-confirm")
	closeAll()

	te = w.showTargetEditor(&w.config.Targets[0])
	te.tabs.SelectIndex(tabRequest)
	shot("editor-multipart-Request")
	te.tabs.SelectIndex(tabAuth)
	shot("editor-multipart-Auth")
	closeAll()

	te = w.showTargetEditor(nil)
	test.Type(te.req.url, "ftp://x/?a=<FOO>")
	selectAuth(te.auth, actions.AuthBasic)
	test.Tap(te.save)
	shot("editor-problems")
	closeAll()

	for _, tg := range w.config.Targets {
		if tg.Preset.Kind == actions.PresetMattermost {
			te = w.showTargetEditor(&tg)
		}
	}
	shot("editor-preset-General")
	te.tabs.SelectIndex(tabRequest)
	shot("editor-preset-Request")
	showTags(w.Window)
	shot("tags")
	closeAll()
}

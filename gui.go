//go:build !nogui

package main

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"github.com/buttonhook/buttonhook/app/cli"
	"github.com/buttonhook/buttonhook/app/ui"
	"github.com/buttonhook/buttonhook/assets"
	"github.com/buttonhook/buttonhook/storage/secrets"
)

// window returns the function that shows Buttonhook's window.
func window() cli.GUI { return showWindow }

// showWindow runs the Fyne app on the main goroutine until the window closes
// or ctx is done.
func showWindow(ctx context.Context, rt *cli.Runtime) error {
	a := app.NewWithID("io.github.buttonhook")
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon))
	w := ui.New(a, rt.Engine)
	w.SetSecretStore(secrets.Keyring{})
	if rt.Server != nil {
		w.SetServer(rt.Server)
	}
	w.SetMaster()
	stopListening := w.Listen()
	defer stopListening()
	stop := context.AfterFunc(ctx, func() { fyne.Do(a.Quit) })
	defer stop()
	w.ShowAndRun()
	return nil
}

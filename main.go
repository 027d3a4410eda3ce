// Command buttonhook turns a hardware button into a reliable webhook: it
// opens the window, or runs headless (`buttonhook run`), or simulates a
// button (`buttonhook sim`); see `buttonhook -h`.
package main

import (
	"context"
	"os"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"github.com/buttonhook/buttonhook/app/cli"
	"github.com/buttonhook/buttonhook/app/ui"
	"github.com/buttonhook/buttonhook/assets"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(cli.Main(os.Args[1:], cli.Env{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		GUI: showWindow, Version: version,
	}))
}

// showWindow runs the Fyne app on the main goroutine until the window closes
// or ctx is done.
func showWindow(ctx context.Context, rt *cli.Runtime) error {
	a := app.NewWithID("io.github.buttonhook")
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon))
	w := ui.New(a, rt.Engine)
	w.SetMaster()
	stopListening := w.Listen()
	defer stopListening()
	stop := context.AfterFunc(ctx, func() { fyne.Do(a.Quit) })
	defer stop()
	w.ShowAndRun()
	return nil
}

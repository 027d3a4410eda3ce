// Command buttonhook turns a hardware button into a reliable webhook: it
// opens the window, or runs headless (`buttonhook run`), or simulates a
// button (`buttonhook sim`); see `buttonhook -h`. Built with -tags nogui it
// has no window and needs no graphics libraries, for headless machines.
package main

import (
	"os"
	"runtime/debug"

	"github.com/buttonhook/buttonhook/app/cli"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// memoryLimit is the Go heap's soft limit unless GOMEMLIMIT says otherwise:
// Badger's write buffers otherwise let the heap grow to twice what is live,
// and Buttonhook runs on small boxes (docs/storage.md has the figures).
const memoryLimit = 96 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	os.Exit(cli.Main(os.Args[1:], cli.Env{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		GUI: window(), Version: version, Drivers: drivers,
	}))
}

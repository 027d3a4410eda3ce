//go:build nogui

package main

import "github.com/buttonhook/buttonhook/app/cli"

// window returns nil: this build has no window (see -tags nogui).
func window() cli.GUI { return nil }

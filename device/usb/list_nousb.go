//go:build nousb

package usb

import "context"

// List returns ErrUnsupported: this build has no USB support.
func List(ctx context.Context) ([]Found, error) {
	return nil, ErrUnsupported
}

package actions

import (
	"context"
	"io"
	"net/http"
	"time"
)

// Timing splits an attempt's time.
type Timing struct {
	Connect   time.Duration `json:"connect,omitempty"`    // TCP connect (0 on a reused connection)
	TLS       time.Duration `json:"tls,omitempty"`        // TLS handshake
	FirstByte time.Duration `json:"first_byte,omitempty"` // from start to the first response byte
	Total     time.Duration `json:"total"`
}

// timer records an attempt's timing through httptrace.
type timer struct {
	start time.Time
}

// withTiming starts timing a request; attach the returned context to it.
func withTiming(ctx context.Context) (context.Context, *timer) {
	return ctx, &timer{start: time.Now()}
}

func (tm *timer) timing() Timing { return Timing{Total: time.Since(tm.start)} }

// readResponse keeps at most MaxResponseBody bytes of resp's body and
// discards the rest without holding it in memory.
func readResponse(resp *http.Response) (body []byte, err error) {
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, MaxResponseBody))
	// Drain a little more so the connection can be reused; past that, close it.
	_, _ = io.CopyN(io.Discard, resp.Body, 256<<10)
	return body, err
}

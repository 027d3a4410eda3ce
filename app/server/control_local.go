package server

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// The control API's view of the local server: its status, and the request
// inspector's bins, which live in the running instance's memory.

// WithLocal adds the local server's control routes to the control API h.
func WithLocal(h http.Handler, l *Local) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", h)
	mux.HandleFunc("GET /v1/server", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, l.Status()) })
	mux.HandleFunc("GET /v1/inspect/{bin}", l.serveInspect)
	return mux
}

// errInspectorOff answers inspect requests while the inspector is off.
const errInspectorOff = "the request inspector is off: turn it on in Settings, or with `buttonhook settings set server.inspector=true`"

// serveInspect writes the bin's requests as JSON lines; with follow=1 it
// goes on writing each new one until the client goes away.
func (l *Local) serveInspect(w http.ResponseWriter, r *http.Request) {
	bin := r.PathValue("bin")
	if !ValidBin(bin) {
		http.Error(w, errBadBin, http.StatusBadRequest)
		return
	}
	if !l.InspectorOn() {
		http.Error(w, errInspectorOff, http.StatusConflict)
		return
	}
	w.Header().Set("Content-Type", "application/jsonl")
	enc := json.NewEncoder(w)
	if r.URL.Query().Get("follow") == "" {
		for _, q := range l.insp.Requests(bin) {
			_ = enc.Encode(q)
		}
		return
	}
	held, ch, stop := l.insp.Follow(bin, 64)
	defer stop()
	flush := func() {
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
	}
	w.WriteHeader(http.StatusOK)
	for _, q := range held {
		_ = enc.Encode(q)
	}
	flush()
	for {
		select {
		case <-r.Context().Done():
			return
		case q := <-ch:
			if enc.Encode(q) != nil {
				return
			}
			flush()
		}
	}
}

// ServerStatus is the running instance's local server status.
func (c *Client) ServerStatus() (Status, error) {
	var s Status
	err := c.do("GET", "/v1/server", nil, &s)
	return s, err
}

// Inspect calls fn with each request of the running instance's inspector
// bin, oldest first; with follow it goes on with each new one until ctx is
// done or fn fails.
func (c *Client) Inspect(ctx context.Context, bin string, follow bool, fn func(Inspected) error) error {
	path := "http://buttonhook/v1/inspect/" + url.PathEscape(bin)
	if follow {
		path += "?follow=1"
	}
	req, err := http.NewRequestWithContext(ctx, "GET", path, nil)
	if err != nil {
		return err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("the running Buttonhook did not answer: %w", err)
	}
	defer resp.Body.Close()
	if err := statusError(resp); err != nil {
		return err
	}
	dec := json.NewDecoder(bufio.NewReader(resp.Body))
	for {
		var q Inspected
		if err := dec.Decode(&q); err != nil {
			if errors.Is(err, io.EOF) || ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("read inspected requests: %w", err)
		}
		if err := fn(q); err != nil {
			return err
		}
	}
}

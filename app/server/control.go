// Package server holds Buttonhook's local servers. For now that is the
// control socket: a small HTTP API on a Unix socket in the data directory,
// through which `buttonhook log`, `targets`, `devices`, `test` and `fire` reach a running
// instance (Badger lets only one process open the data directory). Async
// callbacks, the REST API and the request inspector come later.
package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/buttonhook/buttonhook/actions"
	"github.com/buttonhook/buttonhook/app/engine"
	"github.com/buttonhook/buttonhook/storage"
)

// SocketPath is where the control socket of the instance holding dataDir
// listens: in a directory only its owner may enter, so the socket is never
// reachable by others, whatever the umask and the data directory's mode.
func SocketPath(dataDir string) string { return filepath.Join(dataDir, "run", "control.sock") }

// maxImport bounds an import request body.
const maxImport = 8 << 20

// Engine is what the control API serves.
type Engine interface {
	Export() engine.Config
	Import(engine.Config) error
	Search(storage.Query) (storage.Page, error)
	WriteCSV(w io.Writer, q storage.Query) error
	WriteJSONLines(w io.Writer, q storage.Query) error
	Devices() []engine.DeviceState
	Test(ctx context.Context, name string) (actions.Result, error)
	Fire(ctx context.Context, name string) (storage.Attempt, error)
	DeleteTarget(idOrName string) error
	CreateAPIKey(name string, targets []string, all bool) (string, engine.APIKey, error)
	APIKeys() []engine.APIKey
	RevokeAPIKey(idOrName string) error
}

// ControlHandler returns the control API over e.
func ControlHandler(e Engine) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/config", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, e.Export()) })
	mux.HandleFunc("POST /v1/config", func(w http.ResponseWriter, r *http.Request) {
		var c engine.Config
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxImport)).Decode(&c); err != nil {
			http.Error(w, "read config: "+err.Error(), http.StatusBadRequest)
			return
		}
		if err := e.Import(c); err != nil {
			http.Error(w, err.Error(), http.StatusUnprocessableEntity)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /v1/attempts", func(w http.ResponseWriter, r *http.Request) {
		q, err := ParseQuery(r.URL.Query())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		page, err := e.Search(q)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		writeJSON(w, page)
	})
	// Every matching attempt, streamed: ?format=csv or jsonl.
	mux.HandleFunc("GET /v1/attempts/export", func(w http.ResponseWriter, r *http.Request) {
		q, err := ParseQuery(r.URL.Query())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Trailer", exportErrorTrailer)
		switch r.URL.Query().Get("format") {
		case "csv":
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			err = e.WriteCSV(w, q)
		default:
			w.Header().Set("Content-Type", "application/jsonl")
			err = e.WriteJSONLines(w, q)
		}
		if err != nil { // the status is sent: say it in a trailer
			w.Header().Set(exportErrorTrailer, err.Error())
		}
	})
	mux.HandleFunc("GET /v1/devices", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, e.Devices()) })
	mux.HandleFunc("DELETE /v1/targets/{name}", func(w http.ResponseWriter, r *http.Request) {
		if err := e.DeleteTarget(r.PathValue("name")); err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	// Test and fire run as long as the target's deadline, tries and async
	// wait allow; the engine bounds them.
	mux.HandleFunc("POST /v1/targets/{name}/test", func(w http.ResponseWriter, r *http.Request) {
		res, err := e.Test(r.Context(), r.PathValue("name"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		writeJSON(w, engine.NewTestReport(res))
	})
	mux.HandleFunc("POST /v1/targets/{name}/fire", func(w http.ResponseWriter, r *http.Request) {
		a, err := e.Fire(r.Context(), r.PathValue("name"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		writeJSON(w, a)
	})
	apiKeyRoutes(mux, e)
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// ServeControl serves h on the Unix socket at path until ctx is done. The
// caller must hold the data directory (so a socket file left there is stale
// and is replaced). The socket is readable by its owner only.
func ServeControl(ctx context.Context, path string, h http.Handler) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create control socket directory: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("protect control socket directory: %w", err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove stale control socket %s: %w", path, err)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return fmt.Errorf("listen on control socket %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return fmt.Errorf("protect control socket %s: %w", path, err)
	}
	// Requests get ctx as their base, so that long ones (an inspector being
	// followed) end with it; what still runs 2 s later is cut.
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	stop := context.AfterFunc(ctx, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if srv.Shutdown(sctx) != nil {
			srv.Close()
		}
	})
	defer stop()
	err = srv.Serve(ln)
	_ = os.Remove(path)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Client talks to a running instance's control socket.
type Client struct {
	hc *http.Client
}

// NewClient returns a client for the control socket of the instance holding
// dataDir.
func NewClient(dataDir string) *Client {
	path := SocketPath(dataDir)
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}}
	return &Client{hc: &http.Client{Transport: tr}}
}

// callTimeout bounds a call to the control API, except test and fire,
// which the running instance bounds by the target's own limits.
const callTimeout = 10 * time.Second

func (c *Client) do(method, path string, body io.Reader, out any) error {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	return c.doCtx(ctx, method, path, body, out)
}

func (c *Client) doCtx(ctx context.Context, method, path string, body io.Reader, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, "http://buttonhook"+path, body)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("the running Buttonhook did not answer: %w", ctx.Err())
	}
	if err != nil {
		return fmt.Errorf("the data directory is in use, but no running Buttonhook answered (another buttonhook command may be using it: try again): %w", err)
	}
	defer resp.Body.Close()
	if err := statusError(resp); err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// statusError is the error a running instance answered with (its body),
// or nil for a success.
func statusError(resp *http.Response) error {
	if resp.StatusCode < 300 {
		return nil
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return errors.New(string(bytes.TrimSpace(msg)))
}

// Export returns the running instance's config.
func (c *Client) Export() (engine.Config, error) {
	var cfg engine.Config
	err := c.do("GET", "/v1/config", nil, &cfg)
	return cfg, err
}

// Import merges cfg into the running instance's config.
func (c *Client) Import(cfg engine.Config) error {
	b, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	return c.do("POST", "/v1/config", bytes.NewReader(b), nil)
}

// Search returns a page of the running instance's attempt log.
func (c *Client) Search(q storage.Query) (storage.Page, error) {
	var p storage.Page
	err := c.do("GET", "/v1/attempts?"+QueryValues(q).Encode(), nil, &p)
	return p, err
}

// exportErrorTrailer reports an export that failed after it started.
const exportErrorTrailer = "X-Buttonhook-Export-Error"

// ExportLog streams every attempt q matches from the running instance to w,
// as "csv" or "jsonl".
func (c *Client) ExportLog(w io.Writer, q storage.Query, format string) error {
	v := QueryValues(q)
	v.Set("format", format)
	req, err := http.NewRequest("GET", "http://buttonhook/v1/attempts/export?"+v.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("the running Buttonhook did not answer: %w", err)
	}
	defer resp.Body.Close()
	if err := statusError(resp); err != nil {
		return err
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		return err
	}
	if msg := resp.Trailer.Get(exportErrorTrailer); msg != "" {
		return fmt.Errorf("the export stopped: %s", msg)
	}
	return nil
}

// Devices lists the running instance's devices.
func (c *Client) Devices() ([]engine.DeviceState, error) {
	var ds []engine.DeviceState
	err := c.do("GET", "/v1/devices", nil, &ds)
	return ds, err
}

// Test runs a test of the named target in the running instance.
func (c *Client) Test(ctx context.Context, name string) (engine.TestReport, error) {
	var rep engine.TestReport
	err := c.doCtx(ctx, "POST", "/v1/targets/"+url.PathEscape(name)+"/test", nil, &rep)
	return rep, err
}

// Fire runs a logged attempt of the named target in the running instance.
func (c *Client) Fire(ctx context.Context, name string) (storage.Attempt, error) {
	var a storage.Attempt
	err := c.doCtx(ctx, "POST", "/v1/targets/"+url.PathEscape(name)+"/fire", nil, &a)
	return a, err
}

// DeleteTarget deletes the named target in the running instance.
func (c *Client) DeleteTarget(name string) error {
	return c.do("DELETE", "/v1/targets/"+url.PathEscape(name), nil, nil)
}

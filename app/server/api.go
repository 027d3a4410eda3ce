package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/buttonhook/buttonhook/actions"
	"github.com/buttonhook/buttonhook/app/engine"
)

// The local server's routes: async callbacks (/callback/{token}), the
// dynamic URL API (/api/v1/targets/{id}/url, docs/api.md), and the request
// inspector (/inspect/{bin}).

// tokenRE is the shape of a callback token: 64-bit id and 128-bit secret.
var tokenRE = regexp.MustCompile(`^[0-9a-f]{48}$`)

// maxAPIBody bounds a REST API request body (a URL in JSON).
const maxAPIBody = 16 << 10

// routes is the local server's handler, before the guard.
type routes struct {
	e      LocalEngine
	insp   *Inspector
	inspOn func() bool
	// Failures are counted apart for callbacks and for the API, so that
	// wrong tokens never lock out a right key, and the other way round.
	callbacks, keys *limiter
}

func (rt *routes) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/callback/{token}", rt.callback)
	mux.HandleFunc("GET /api/v1/targets/{id}/url", rt.api(rt.getURL))
	mux.HandleFunc("PUT /api/v1/targets/{id}/url", rt.api(rt.putURL))
	mux.HandleFunc("DELETE /api/v1/targets/{id}/url", rt.api(rt.deleteURL))
	mux.HandleFunc("/api/v1/targets/{id}/url", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", "GET, PUT, DELETE")
		writeError(w, http.StatusMethodNotAllowed, "the URL of a target is read with GET, set with PUT and cleared with DELETE")
	})
	mux.HandleFunc("/inspect/{bin}", rt.inspect)
	mux.HandleFunc("/inspect/{bin}/{rest...}", rt.inspect)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]string{"service": "Buttonhook local server", "docs": "https://github.com/buttonhook/buttonhook/blob/main/docs/api.md"})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "nothing here: this server answers /callback/..., /api/v1/targets/{id}/url and /inspect/{bin}")
	})
	return mux
}

// callback completes the async attempt a token belongs to (docs/targets.md).
func (rt *routes) callback(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodPost, http.MethodPut:
	default:
		w.Header().Set("Allow", "GET, POST, PUT")
		writeError(w, http.StatusMethodNotAllowed, "a callback is a GET, POST or PUT")
		return
	}
	client := clientAddr(r)
	if wait := rt.callbacks.wait(client); wait > 0 {
		tooMany(w, wait)
		return
	}
	body, ok := readBody(w, r, actions.MaxCallbackBody)
	if !ok {
		return
	}
	res, err := actions.ParseCallback(r.Header.Get("Content-Type"), r.URL.Query(), body)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	token := r.PathValue("token")
	_, err = rt.e.Callbacks().Complete(token, res)
	switch {
	case errors.Is(err, actions.ErrCallbackUsed):
		writeError(w, http.StatusGone, "this callback was already used: each callback URL works once")
		return
	case errors.Is(err, actions.ErrCallbackExpired):
		writeError(w, http.StatusNotFound, "the attempt of this callback stopped waiting for it (its async timeout passed): it is marked failed")
		return
	case err != nil:
		// Only a token of the right shape can be a guess at a real one:
		// test runs' placeholder URL and garbage are not counted.
		if tokenRE.MatchString(token) {
			rt.callbacks.fail(client)
		}
		writeError(w, http.StatusNotFound, "no attempt is waiting for this callback: the URL is wrong, or its attempt stopped waiting")
		return
	}
	rt.callbacks.succeed(client)
	status := "ok"
	if !res.OK {
		status = "failed"
	}
	writeJSON(w, map[string]string{"attempt": status})
}

// api authorises a REST API request by its bearer key for the target in
// its path, then runs h.
func (rt *routes) api(h func(w http.ResponseWriter, r *http.Request, id string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		client := clientAddr(r)
		if wait := rt.keys.wait(client); wait > 0 {
			tooMany(w, wait)
			return
		}
		key, ok := bearer(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="buttonhook"`)
			writeError(w, http.StatusUnauthorized, "send your API key as Authorization: Bearer KEY (make one with `buttonhook apikey create`)")
			return
		}
		id := r.PathValue("id")
		_, err := rt.e.Authorize(key, id)
		switch {
		case errors.Is(err, engine.ErrKeyScope):
			// A right key: no failure, but no reset of earlier ones either.
			writeError(w, http.StatusForbidden, "this API key may not change this target: make a key for it with `buttonhook apikey create --target`")
			return
		case err != nil:
			if !errors.Is(err, engine.ErrMalformedAPIKey) {
				rt.keys.fail(client)
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="buttonhook", error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, "wrong or revoked API key")
			return
		}
		rt.keys.succeed(client)
		h(w, r, id)
	}
}

// bearer is the request's bearer key.
func bearer(r *http.Request) (string, bool) {
	scheme, key, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	key = strings.TrimSpace(key)
	return key, ok && strings.EqualFold(scheme, "Bearer") && key != ""
}

func (rt *routes) getURL(w http.ResponseWriter, r *http.Request, id string) {
	u, err := rt.e.DynamicURL(id)
	if err != nil {
		writeEngineError(w, err)
		return
	}
	writeJSON(w, u)
}

func (rt *routes) putURL(w http.ResponseWriter, r *http.Request, id string) {
	body, ok := readBody(w, r, maxAPIBody)
	if !ok {
		return
	}
	raw, err := parseURLBody(r.Header.Get("Content-Type"), body)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	u, err := rt.e.SetDynamicURL(id, raw)
	if err != nil {
		writeEngineError(w, err)
		return
	}
	writeJSON(w, u)
}

func (rt *routes) deleteURL(w http.ResponseWriter, r *http.Request, id string) {
	if err := rt.e.ClearDynamicURL(id); err != nil {
		writeEngineError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// parseURLBody reads the URL a PUT sets: JSON {"url": "..."}, a form field
// url=..., or the URL alone as text.
func parseURLBody(contentType string, body []byte) (string, error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	text := strings.TrimSpace(string(body))
	switch {
	case text == "":
		return "", errors.New(`the body is empty: send {"url": "https://..."}`)
	case mt == "application/json" || strings.HasPrefix(text, "{"):
		var v struct {
			URL *string `json:"url"`
		}
		if err := json.Unmarshal(body, &v); err != nil || v.URL == nil {
			return "", errors.New(`the body is not the JSON object {"url": "https://..."}`)
		}
		return *v.URL, nil
	case mt == "application/x-www-form-urlencoded":
		f, err := url.ParseQuery(text)
		if err != nil || !f.Has("url") {
			return "", errors.New("the form has no url field: send url=https://...")
		}
		return f.Get("url"), nil
	default:
		return text, nil
	}
}

// writeEngineError maps the engine's errors to statuses.
func writeEngineError(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	switch {
	case errors.Is(err, engine.ErrUnknownTarget):
		code = http.StatusNotFound
	case errors.Is(err, engine.ErrNotDynamic):
		code = http.StatusConflict
	case errors.Is(err, engine.ErrBadDynamicURL):
		code = http.StatusUnprocessableEntity
	}
	writeError(w, code, err.Error())
}

func (rt *routes) inspect(w http.ResponseWriter, r *http.Request) {
	if !rt.inspOn() {
		writeError(w, http.StatusNotFound, errInspectorOff)
		return
	}
	rt.insp.inspect(w, r)
}

// readBody reads at most limit bytes of the body, answering 413 past it.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than %d KiB", limit>>10))
		return nil, false
	case err != nil:
		writeError(w, http.StatusBadRequest, "read the request body: "+err.Error())
		return nil, false
	}
	return body, true
}

// writeError answers {"error": msg}.
func writeError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

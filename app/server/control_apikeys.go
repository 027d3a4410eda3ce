package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"

	"github.com/buttonhook/buttonhook/app/engine"
)

// APIKeyRequest asks the control API for a new API key (`buttonhook apikey
// create` through a running instance).
type APIKeyRequest struct {
	Name       string   `json:"name"`
	Targets    []string `json:"targets,omitempty"` // IDs or names
	AllTargets bool     `json:"all_targets,omitempty"`
}

// NewAPIKey is a key just created: the key itself, shown this once, and
// the key as listed.
type NewAPIKey struct {
	Key    string        `json:"key"`
	APIKey engine.APIKey `json:"api_key"`
}

// apiKeyRoutes serves the API keys on the control socket. The socket is
// its owner's alone (see ServeControl), so the key a create returns goes
// to the user who asked for it.
func apiKeyRoutes(mux *http.ServeMux, e Engine) {
	mux.HandleFunc("GET /v1/apikeys", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, e.APIKeys()) })
	mux.HandleFunc("POST /v1/apikeys", func(w http.ResponseWriter, r *http.Request) {
		var req APIKeyRequest
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil {
			http.Error(w, "read the request: "+err.Error(), http.StatusBadRequest)
			return
		}
		key, k, err := e.CreateAPIKey(req.Name, req.Targets, req.AllTargets)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnprocessableEntity)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusCreated)
		writeJSON(w, NewAPIKey{Key: key, APIKey: k})
	})
	mux.HandleFunc("DELETE /v1/apikeys/{key}", func(w http.ResponseWriter, r *http.Request) {
		err := e.RevokeAPIKey(r.PathValue("key"))
		switch {
		case errors.Is(err, engine.ErrUnknownAPIKey):
			http.Error(w, err.Error(), http.StatusNotFound)
		case err != nil:
			http.Error(w, err.Error(), http.StatusInternalServerError)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	})
}

// CreateAPIKey creates an API key in the running instance; see
// engine.Engine.CreateAPIKey.
func (c *Client) CreateAPIKey(name string, targets []string, all bool) (string, engine.APIKey, error) {
	b, err := json.Marshal(APIKeyRequest{Name: name, Targets: targets, AllTargets: all})
	if err != nil {
		return "", engine.APIKey{}, err
	}
	var k NewAPIKey
	err = c.do("POST", "/v1/apikeys", bytes.NewReader(b), &k)
	return k.Key, k.APIKey, err
}

// APIKeys lists the running instance's API keys.
func (c *Client) APIKeys() ([]engine.APIKey, error) {
	var ks []engine.APIKey
	err := c.do("GET", "/v1/apikeys", nil, &ks)
	return ks, err
}

// RevokeAPIKey revokes an API key, by ID or name, in the running instance.
func (c *Client) RevokeAPIKey(idOrName string) error {
	return c.do("DELETE", "/v1/apikeys/"+url.PathEscape(idOrName), nil, nil)
}

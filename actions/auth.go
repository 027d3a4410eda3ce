package actions

import (
	"context"
	"errors"
	"net/http"
)

// SecretRef names a secret in a secret source: "keyring:NAME" (or just NAME)
// for the OS keyring, "env:NAME" for an environment variable. It is never the
// secret itself.
type SecretRef string

// SecretSource gives the value of a secret reference. storage/secrets'
// Sources is one.
type SecretSource interface {
	Get(ref string) (string, error)
}

// ErrSecretMissing is wrapped by the error of an attempt whose secret could
// not be read; nothing was sent.
var ErrSecretMissing = errors.New("secret missing")

// AuthKind is how a target authorizes itself.
type AuthKind string

// Auth kinds.
const (
	AuthNone   AuthKind = ""
	AuthBasic  AuthKind = "basic"
	AuthDigest AuthKind = "digest"
	AuthBearer AuthKind = "bearer"
	AuthAPIKey AuthKind = "apikey"
	AuthOAuth2 AuthKind = "oauth2" // client credentials
)

// Auth is a target's authorization. Secrets are references.
type Auth struct {
	Kind         AuthKind  `json:"kind,omitempty"`
	Username     string    `json:"username,omitempty"`      // basic, digest
	Password     SecretRef `json:"password,omitempty"`      // basic, digest
	Token        SecretRef `json:"token,omitempty"`         // bearer
	Header       string    `json:"header,omitempty"`        // apikey: the header's name (default X-Api-Key)
	Key          SecretRef `json:"key,omitempty"`           // apikey
	TokenURL     string    `json:"token_url,omitempty"`     // oauth2
	ClientID     string    `json:"client_id,omitempty"`     // oauth2
	ClientSecret SecretRef `json:"client_secret,omitempty"` // oauth2
	Scopes       []string  `json:"scopes,omitempty"`        // oauth2
}

func (a Auth) validate(add adder) {
	if a.Kind != AuthNone {
		add("auth.kind", "authorization is not available yet")
	}
}

// secretHeaders names the headers that carry this auth's secrets, to drop
// on redirects to another origin and to mask in previews.
func (a Auth) secretHeaders() []string { return []string{"Authorization"} }

// authState is what the Sender remembers between attempts (OAuth tokens,
// digest nonces). Safe for concurrent use.
type authState struct{}

// do sends req for t with its authorization (a digest challenge may take a
// second round trip).
func (st *authState) do(ctx context.Context, t Target, req *http.Request, c *http.Client, secrets SecretSource) (*http.Response, error) {
	return c.Do(req)
}

package actions

import (
	"errors"
	"strings"
	"testing"
)

// TestValidateHeadersSetByTheTarget: a header row whose name the target's
// auth, signing or async mode sets itself is refused (the send would
// replace its value), by name in any case; the same row is fine when that
// setting is off.
func TestValidateHeadersSetByTheTarget(t *testing.T) {
	basic := Auth{Kind: AuthBasic, Username: "bob", Password: "keyring:door"}
	tests := []struct {
		name   string
		edit   func(*Target)
		header string
		want   string // "" for valid; else the start of the message after "headers[1].key: "
	}{
		{"basic, Authorization", func(t *Target) { t.Auth = basic }, "authorization",
			"Authorization is set by the basic auth: remove this row, or set auth to none"},
		{"digest, Authorization", func(t *Target) { t.Auth = Auth{Kind: AuthDigest, Username: "bob", Password: "env:P"} }, "AUTHORIZATION",
			"Authorization is set by the digest auth: remove this row, or set auth to none"},
		{"bearer, Authorization", func(t *Target) { t.Auth = Auth{Kind: AuthBearer, Token: "env:T"} }, "Authorization",
			"Authorization is set by the bearer auth"},
		{"oauth2, Authorization", func(t *Target) {
			t.Auth = Auth{Kind: AuthOAuth2, TokenURL: "https://id.example/token", ClientID: "c", ClientSecret: "env:S"}
		}, "authorization", "Authorization is set by the oauth2 auth"},
		{"apikey, default header", func(t *Target) { t.Auth = Auth{Kind: AuthAPIKey, Key: "env:K"} }, "x-api-key",
			"X-Api-Key is set by the apikey auth: remove this row, or set auth to none"},
		{"apikey, its own header", func(t *Target) { t.Auth = Auth{Kind: AuthAPIKey, Header: "x-door-key", Key: "env:K"} }, "X-DOOR-KEY",
			"X-Door-Key is set by the apikey auth"},
		{"apikey in Authorization", func(t *Target) { t.Auth = Auth{Kind: AuthAPIKey, Header: "Authorization", Key: "env:K"} }, "authorization",
			"Authorization is set by the apikey auth"},
		{"signing, webhook-id", func(t *Target) { t.Signing.Secret = "env:WHSEC" }, "webhook-id",
			"Webhook-Id is set by signing: remove this row, or turn signing off"},
		{"signing, webhook-timestamp", func(t *Target) { t.Signing.Secret = "env:WHSEC" }, "Webhook-Timestamp", "Webhook-Timestamp is set by signing"},
		{"signing, webhook-signature", func(t *Target) { t.Signing.Secret = "env:WHSEC" }, "WEBHOOK-SIGNATURE", "Webhook-Signature is set by signing"},
		{"async, callback", func(t *Target) { t.Async.Enabled = true }, "x-buttonhook-callback",
			"X-Buttonhook-Callback carries the callback URL in async mode: remove this row, or turn async off"},
		{"multipart, Content-Type", func(t *Target) { t.Body = Body{Kind: BodyMultipart, Form: []KV{{"a", "b"}}} }, "content-type",
			"Content-Type is set by the multipart body"},
		{"raw, Content-Type", func(t *Target) { t.Body = Body{Kind: BodyRaw, Text: "<a/>", ContentType: "application/xml"} }, "Content-Type",
			"Content-Type is set by the raw body"},

		{"no auth, Authorization", func(*Target) {}, "Authorization", ""},
		{"json, Content-Type", func(t *Target) { t.Body = Body{Kind: BodyJSON, JSON: "{}"} }, "Content-Type", ""},
		{"apikey elsewhere, Authorization", func(t *Target) { t.Auth = Auth{Kind: AuthAPIKey, Key: "env:K"} }, "Authorization", ""},
		{"basic, X-Api-Key", func(t *Target) { t.Auth = basic }, "X-Api-Key", ""},
		{"no signing, webhook-id", func(*Target) {}, "webhook-id", ""},
		{"no async, callback", func(*Target) {}, "X-Buttonhook-Callback", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := Target{Name: "Door", Method: "POST", URL: "https://example.test/hook",
				Headers: []KV{{"X-Plain", "1"}, {tt.header, "v"}}}
			tt.edit(&tg)
			err := tg.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var ve ValidationError
			if !errors.As(err, &ve) || len(ve) != 1 {
				t.Fatalf("Validate() = %v, want one problem", err)
			}
			if ve[0].Field != "headers[1].key" || !strings.HasPrefix(ve[0].Msg, tt.want) {
				t.Errorf("Validate() = %q, want headers[1].key: %s", ve[0].Error(), tt.want)
			}
		})
	}
}

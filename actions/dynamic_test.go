package actions

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestValidateDynamic(t *testing.T) {
	base := Target{Name: "Gate", Enabled: true, Method: "POST"}
	tests := []struct {
		name string
		d    Dynamic
		url  string
		want []string // fields with problems; nil: valid
	}{
		{"dynamic without URL", Dynamic{Enabled: true}, "", nil},
		{"dynamic with a fallback URL", Dynamic{Enabled: true}, "https://x.example/<NAME>", nil},
		{"dynamic with a bad fallback URL", Dynamic{Enabled: true}, "ftp://x.example", []string{"url"}},
		{"not dynamic without URL", Dynamic{}, "", []string{"url"}},
		{"hosts kept while off", Dynamic{Hosts: []string{"x.example"}}, "https://x.example", nil},
		{"good hosts", Dynamic{Enabled: true, Hosts: []string{"example.com", "*.example.com", "EXAMPLE.org", "10.0.0.2", "::1", "my_host.lan"}}, "", nil},
		{"empty host", Dynamic{Enabled: true, Hosts: []string{""}}, "", []string{"dynamic.hosts[0]"}},
		{"host with scheme", Dynamic{Enabled: true, Hosts: []string{"ok.example", "https://x.example"}}, "", []string{"dynamic.hosts[1]"}},
		{"host with path", Dynamic{Enabled: true, Hosts: []string{"x.example/hook"}}, "", []string{"dynamic.hosts[0]"}},
		{"host with port", Dynamic{Enabled: true, Hosts: []string{"x.example:8080"}}, "", []string{"dynamic.hosts[0]"}},
		{"wildcard inside", Dynamic{Enabled: true, Hosts: []string{"a.*.example"}}, "", []string{"dynamic.hosts[0]"}},
		{"bare wildcard", Dynamic{Enabled: true, Hosts: []string{"*"}}, "", []string{"dynamic.hosts[0]"}},
		{"wildcard IP", Dynamic{Enabled: true, Hosts: []string{"*.10.0.0.2"}}, "", []string{"dynamic.hosts[0]"}},
		{"double dot", Dynamic{Enabled: true, Hosts: []string{"x..example"}}, "", []string{"dynamic.hosts[0]"}},
		{"space", Dynamic{Enabled: true, Hosts: []string{"x example"}}, "", []string{"dynamic.hosts[0]"}},
		{"too many", Dynamic{Enabled: true, Hosts: slices.Repeat([]string{"x.example"}, MaxDynamicHosts+1)}, "", []string{"dynamic.hosts"}},
	}
	for _, tt := range tests {
		tg := base
		tg.URL, tg.Dynamic = tt.url, tt.d
		var got []string
		if ve, ok := tg.Validate().(ValidationError); ok {
			for _, fe := range ve {
				got = append(got, fe.Field)
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: problems in %q, want %q (%v)", tt.name, got, tt.want, tg.Validate())
		}
	}
}

func TestSecretCarriers(t *testing.T) {
	tests := []struct {
		name string
		t    Target
		want []string
	}{
		{"none", Target{Headers: []KV{{Key: "X-Source", Value: "bh"}, {Key: "Idempotency-Key", Value: "1"}}, Query: []KV{{Key: "who", Value: "me"}}}, nil},
		{"bearer", Target{Auth: Auth{Kind: AuthBearer, Token: "env:T"}}, []string{"auth.token"}},
		{"basic and signing", Target{Auth: Auth{Kind: AuthBasic, Username: "u", Password: "keyring:p"}, Signing: Signing{Secret: "env:S"}}, []string{"auth.password", "signing.secret"}},
		{"secret header", Target{Headers: []KV{{Key: "X-Source", Value: "bh"}, {Key: "X-Auth-Token", Value: "abc"}}}, []string{"headers[1] (X-Auth-Token)"}},
		{"the api key auth's own header set by hand", Target{Auth: Auth{Kind: AuthAPIKey, Header: "X-Door", Key: "env:K"}, Headers: []KV{{Key: "x-door", Value: "v"}}}, []string{"auth.key", "headers[0] (x-door)"}},
		{"secret query row", Target{Query: []KV{{Key: "api_key", Value: "abc"}}}, []string{"query[0] (api_key)"}},
		{"secret form row", Target{Body: Body{Kind: BodyForm, Form: []KV{{Key: "n", Value: "1"}, {Key: "password", Value: "x"}}}}, []string{"body.form[1] (password)"}},
		{"form rows of a JSON body do not count", Target{Body: Body{Kind: BodyJSON, JSON: "{}", Form: []KV{{Key: "password", Value: "x"}}}}, nil},
	}
	for _, tt := range tests {
		if got := tt.t.SecretCarriers(); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestCheckDynamicURL(t *testing.T) {
	open := Target{Name: "Open", Method: "POST", Dynamic: Dynamic{Enabled: true}}
	listed := open
	listed.Name, listed.Dynamic.Hosts = "Listed", []string{"hooks.example.com", "*.lan.example", "10.0.0.2"}
	secret := Target{Name: "Secret", Method: "POST", URL: "https://api.example.com/<NAME>", Auth: Auth{Kind: AuthBearer, Token: "env:T"}, Dynamic: Dynamic{Enabled: true}}
	secretNoURL := secret
	secretNoURL.Name, secretNoURL.URL = "Secret without URL", ""
	secretListed := secretNoURL
	secretListed.Name, secretListed.Dynamic.Hosts = "Secret listed", []string{"*.example.com"}
	plainHTTP := secret
	plainHTTP.Name, plainHTTP.URL = "Plain", "http://192.168.1.20/relay"
	pinned := listed
	pinned.Name, pinned.TLS, pinned.Dynamic.Hosts = "Pinned", TLS{Insecure: true}, []string{"x.example"}
	slack := listed
	slack.Name, slack.Preset, slack.Dynamic.Hosts = "Slack", Preset{Kind: PresetSlack, Message: "m"}, []string{"hooks.slack.com"}
	// No secrets, but its body, headers or files may hold anything: it too
	// stays on its own host.
	ownHost := Target{Name: "Own", Method: "POST", URL: "http://hooks.example.com/a", Dynamic: Dynamic{Enabled: true},
		Body: Body{Kind: BodyJSON, JSON: `{"note":"anything the sender chose"}`}}
	loop := secret
	loop.Name, loop.URL = "Loop", "http://127.0.0.1:9/x"

	tests := []struct {
		t       Target
		url     string
		refusal string // "" means accepted
	}{
		{open, "https://anywhere.example/x?y=<EID>", `target "Open" lists no hosts its URL may be set to, and has no URL of its own`},
		{open, "http://192.168.1.20:8080/relay", "lists no hosts"},
		{ownHost, "http://hooks.example.com/b?x=<EID>", ""},
		{ownHost, "https://hooks.example.com/b", ""},
		{ownHost, "https://collector.example/", `target "Own" may only be set to URLs on its own host, hooks.example.com`},
		{loop, "http://127.0.0.1:10/y", ""},
		{loop, "http://localhost:10/y", "its own host, 127.0.0.1"},
		{open, "", "the URL is required"},
		{open, "ftp://x.example", "must start with http:// or https://"},
		{open, "https://", "has no host"},
		{open, "https://x.example/" + strings.Repeat("a", MaxURLLen), "longer than 2048"},
		{open, "https://<NAME>.example/", "host may not hold tags"},
		{open, "https://user:pw@x.example/", "may not carry a user name or password"},
		{listed, "https://hooks.example.com/a", ""},
		{listed, "https://HOOKS.example.com./a", ""},
		{listed, "https://a.b.lan.example:8443/a", ""},
		{listed, "http://10.0.0.2/a", ""},
		{listed, "https://lan.example/a", `the host lan.example is not one target "Listed" allows (hooks.example.com, *.lan.example, 10.0.0.2)`},
		{listed, "https://evilhooks.example.com/a", "is not one target"},
		{listed, "https://hooks.example.com.evil.example/a", "is not one target"},
		{listed, "http://10.0.0.3/a", "is not one target"},
		{secret, "https://api.example.com:8443/other", ""},
		{secret, "https://API.example.com/other", ""},
		{secret, "https://other.example.com/x", `target "Secret" may only be set to URLs on its own host, api.example.com`},
		{secret, "http://api.example.com/x", `target "Secret" sends secrets (auth.token): its URL must be https://`},
		{secretNoURL, "https://api.example.com/x", "lists no hosts its URL may be set to, and has no URL of its own: list the allowed hosts"},
		{secretListed, "http://a.example.com/x", "must be https://"},
		{secretListed, "https://a.example.com/x", ""},
		{secretListed, "https://example.com/x", "is not one target"},
		{plainHTTP, "http://192.168.1.20:81/other", "must be https://"},
		{plainHTTP, "https://192.168.1.20:81/other", ""},
		{plainHTTP, "http://192.168.1.21/", "its own host, 192.168.1.20"},
		{pinned, "http://x.example/", "does not fit target \"Pinned\": tls: applies only to https:// URLs"},
		{pinned, "https://x.example/", ""},
		{slack, "http://hooks.slack.com/x", "https only"},
		{slack, "https://hooks.slack.com/x", ""},
	}
	for _, tt := range tests {
		err := tt.t.CheckDynamicURL(tt.url)
		switch {
		case tt.refusal == "" && err != nil:
			t.Errorf("%s, %q: %v, want it accepted", tt.t.Name, tt.url, err)
		case tt.refusal != "" && (err == nil || !strings.Contains(err.Error(), tt.refusal)):
			t.Errorf("%s, %q: error %v, want %q", tt.t.Name, tt.url, err, tt.refusal)
		}
	}
}

func ExampleTarget_CheckDynamicURL() {
	t := Target{
		Name: "Garage", Method: "POST", URL: "https://hooks.example.com/garage",
		Auth:    Auth{Kind: AuthBearer, Token: "keyring:garage-token"},
		Dynamic: Dynamic{Enabled: true},
	}
	fmt.Println(t.CheckDynamicURL("https://hooks.example.com/garage/v2"))
	fmt.Println(t.CheckDynamicURL("https://elsewhere.example/collect"))
	// Output:
	// <nil>
	// target "Garage" may only be set to URLs on its own host, hooks.example.com: use that host, or list the allowed hosts in the target's dynamic hosts in Buttonhook
}

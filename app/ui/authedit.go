package ui

import (
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/buttonhook/buttonhook/actions"
)

// authKinds are the auth kinds as the editor names them, in the order of
// actions.AuthKinds.
var authKinds = []struct {
	kind  actions.AuthKind
	label string
}{
	{actions.AuthNone, "None"},
	{actions.AuthBasic, "Basic (user name and password)"},
	{actions.AuthDigest, "Digest (user name and password)"},
	{actions.AuthBearer, "Bearer token"},
	{actions.AuthAPIKey, "API key in a header"},
	{actions.AuthOAuth2, "OAuth 2.0 client credentials"},
}

// authEditor is the Auth tab.
type authEditor struct {
	kind                       *widget.Select
	username, header           *widget.Entry
	tokenURL, clientID, scopes *widget.Entry
	password, token, key       *secretField
	clientSecret               *secretField

	rows    map[string]*row
	content fyne.CanvasObject
}

func newAuthEditor(hasStore bool, changed func()) *authEditor {
	a := &authEditor{
		username:     newEntry("", changed),
		header:       newEntry(actions.DefaultAPIKeyHeader, changed),
		tokenURL:     newEntry("https://auth.example.com/oauth/token", changed),
		clientID:     newEntry("", changed),
		scopes:       newEntry("read write", changed),
		password:     newSecretField("auth.password", "the password", "password", hasStore, changed),
		token:        newSecretField("auth.token", "the token", "token", hasStore, changed),
		key:          newSecretField("auth.key", "the API key", "API key", hasStore, changed),
		clientSecret: newSecretField("auth.client_secret", "the client secret", "client secret", hasStore, changed),
	}
	labels := make([]string, len(authKinds))
	for i, k := range authKinds {
		labels[i] = k.label
	}
	a.kind = widget.NewSelect(labels, func(string) { a.showKind(); changed() })
	var f fields
	f.add("Authorization", a.kind, "Secrets are kept in the OS keyring (or read from an environment variable), never in the config or the log.")
	a.rows = map[string]*row{
		"username":      f.add("User name", a.username, ""),
		"password":      f.add("Password", a.password.box, ""),
		"token":         f.add("Token", a.token.box, "Sent as Authorization: Bearer <token>."),
		"header":        f.add("Header", a.header, "The header that carries the key; default "+actions.DefaultAPIKeyHeader+"."),
		"key":           f.add("API key", a.key.box, ""),
		"token_url":     f.add("Token URL", a.tokenURL, "https:// (plain http:// only for localhost: the client secret travels in it)"),
		"client_id":     f.add("Client ID", a.clientID, ""),
		"client_secret": f.add("Client secret", a.clientSecret.box, ""),
		"scopes":        f.add("Scopes", a.scopes, "Separated by spaces; may be empty."),
	}
	a.content = f.container()
	a.set(actions.Auth{})
	return a
}

func (a *authEditor) selected() actions.AuthKind {
	if i := a.kind.SelectedIndex(); i >= 0 {
		return authKinds[i].kind
	}
	return actions.AuthNone
}

// showKind shows the fields of the selected kind.
func (a *authEditor) showKind() {
	on := map[actions.AuthKind][]string{
		actions.AuthBasic:  {"username", "password"},
		actions.AuthDigest: {"username", "password"},
		actions.AuthBearer: {"token"},
		actions.AuthAPIKey: {"header", "key"},
		actions.AuthOAuth2: {"token_url", "client_id", "client_secret", "scopes"},
	}[a.selected()]
	for name, r := range a.rows {
		r.show(slices.Contains(on, name))
	}
}

func (a *authEditor) set(auth actions.Auth) {
	a.kind.SetSelectedIndex(0)
	for i, k := range authKinds {
		if k.kind == auth.Kind {
			a.kind.SetSelectedIndex(i)
		}
	}
	a.username.SetText(auth.Username)
	a.header.SetText(auth.Header)
	a.tokenURL.SetText(auth.TokenURL)
	a.clientID.SetText(auth.ClientID)
	a.scopes.SetText(strings.Join(auth.Scopes, " "))
	a.password.set(auth.Password)
	a.token.set(auth.Token)
	a.key.set(auth.Key)
	a.clientSecret.set(auth.ClientSecret)
	a.showKind()
}

// auth reads the fields of the selected kind; ref gives each secret
// field's reference.
func (a *authEditor) auth(ref func(*secretField) actions.SecretRef) actions.Auth {
	out := actions.Auth{Kind: a.selected()}
	switch out.Kind {
	case actions.AuthBasic, actions.AuthDigest:
		out.Username = strings.TrimSpace(a.username.Text)
		out.Password = ref(a.password)
	case actions.AuthBearer:
		out.Token = ref(a.token)
	case actions.AuthAPIKey:
		out.Header = strings.TrimSpace(a.header.Text)
		out.Key = ref(a.key)
	case actions.AuthOAuth2:
		out.TokenURL = strings.TrimSpace(a.tokenURL.Text)
		out.ClientID = strings.TrimSpace(a.clientID.Text)
		out.ClientSecret = ref(a.clientSecret)
		out.Scopes = strings.Fields(a.scopes.Text)
	}
	return out
}

// tabContent is the tab's scrolling content.
func (a *authEditor) tabContent() fyne.CanvasObject {
	return container.NewVScroll(container.NewPadded(a.content))
}

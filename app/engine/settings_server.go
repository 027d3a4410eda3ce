package engine

import (
	"fmt"
	"net/url"
	"strings"
)

// Defaults and limits of the server settings.
const (
	// DefaultServerPort is the port the local server listens on by default.
	DefaultServerPort = 8735
	// DefaultInspectorKeep is how many requests the inspector keeps per bin
	// by default.
	DefaultInspectorKeep = 50
	// MaxInspectorKeep is the most requests the inspector can be set to keep
	// per bin.
	MaxInspectorKeep = 1000
)

// idServer is the ID of the server settings' document (kind "settings").
const idServer = "server"

// ServerSettings configure the local HTTP server (async callbacks, the REST
// API for dynamic URLs, the request inspector). The server runs only while
// something needs it (see Engine.ServerNeeded).
type ServerSettings struct {
	Port int  `json:"port"` // default DefaultServerPort; 1-65535
	LAN  bool `json:"lan"`  // listen on all interfaces instead of 127.0.0.1
	// PublicURL is "" or an absolute http(s) URL without query or fragment:
	// the base of callback URLs when they arrive through a reverse proxy or
	// a tunnel.
	PublicURL     string `json:"public_url"`
	HTTPS         bool   `json:"https"`          // serve HTTPS with a generated self-signed certificate
	Inspector     bool   `json:"inspector"`      // the request inspector is on
	InspectorKeep int    `json:"inspector_keep"` // requests kept per bin, default DefaultInspectorKeep, 1-MaxInspectorKeep
}

// defaultServerSettings are the server settings of a new data directory.
func defaultServerSettings() ServerSettings {
	return ServerSettings{Port: DefaultServerPort, InspectorKeep: DefaultInspectorKeep}
}

// ServerSection is the "server" section of a config file. Import changes
// only the settings it names: a field left out keeps its setting.
type ServerSection struct {
	Port          *int    `json:"port,omitempty"`
	LAN           *bool   `json:"lan,omitempty"`
	PublicURL     *string `json:"public_url,omitempty"`
	HTTPS         *bool   `json:"https,omitempty"`
	Inspector     *bool   `json:"inspector,omitempty"`
	InspectorKeep *int    `json:"inspector_keep,omitempty"`
}

// section returns s as a config file's section, with every field set.
func (s ServerSettings) section() *ServerSection {
	return &ServerSection{Port: &s.Port, LAN: &s.LAN, PublicURL: &s.PublicURL, HTTPS: &s.HTTPS,
		Inspector: &s.Inspector, InspectorKeep: &s.InspectorKeep}
}

// merge returns s changed as sec says, and sec's problems, each with its
// path ("server.port: ...").
func (s ServerSettings) merge(sec *ServerSection) (ServerSettings, []string) {
	if sec == nil {
		return s, nil
	}
	var problems []string
	if p := sec.Port; p != nil {
		if *p < 1 || *p > 65535 {
			problems = append(problems, fmt.Sprintf("server.port: %d is not a port: give 1-65535", *p))
		} else {
			s.Port = *p
		}
	}
	if u := sec.PublicURL; u != nil {
		if norm, err := CheckPublicURL(*u); err != nil {
			problems = append(problems, fmt.Sprintf("server.public_url: %q %v", *u, err))
		} else {
			s.PublicURL = norm
		}
	}
	if n := sec.InspectorKeep; n != nil {
		if *n < 1 || *n > MaxInspectorKeep {
			problems = append(problems, fmt.Sprintf("server.inspector_keep: %d is out of range: give how many requests to keep per bin, 1-%d", *n, MaxInspectorKeep))
		} else {
			s.InspectorKeep = *n
		}
	}
	for _, b := range []struct {
		from *bool
		to   *bool
	}{{sec.LAN, &s.LAN}, {sec.HTTPS, &s.HTTPS}, {sec.Inspector, &s.Inspector}} {
		if b.from != nil {
			*b.to = *b.from
		}
	}
	return s, problems
}

// CheckPublicURL checks a server.public_url setting: "" (none) or an
// absolute http(s) URL without query, fragment or user info. It returns the
// URL without trailing slashes, or what is wrong ("is not ..."), to follow
// the setting's name.
func CheckPublicURL(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "", fmt.Errorf("is not a URL: give one like https://buttons.example.com, or \"\" for none")
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		return "", fmt.Errorf("is not an absolute http(s) URL: give one like https://buttons.example.com, or \"\" for none")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(raw, "#"):
		return "", fmt.Errorf("has a query or fragment: give the base URL alone, like https://buttons.example.com/buttonhook")
	case u.User != nil:
		return "", fmt.Errorf("carries a user name or password: give the URL without them")
	}
	return strings.TrimRight(raw, "/"), nil
}

// ServerNeeded says why the local server must run: "" when nothing needs
// it, else a short reason (`target "Door" is async`, `target "Gate" has a
// dynamic URL`, `the inspector is on`). An async target needs it while it
// is enabled; a dynamic one always (its URL can be set ahead of use).
func (e *Engine) ServerNeeded() string {
	c := e.Config()
	for _, t := range c.Targets {
		switch {
		case t.Async.Enabled && t.Enabled:
			return fmt.Sprintf("target %q is async", t.Name)
		case t.Dynamic.Enabled:
			return fmt.Sprintf("target %q has a dynamic URL", t.Name)
		}
	}
	if c.settings.Server.Inspector {
		return "the inspector is on"
	}
	return ""
}

// String shows the section as a file writes it, with "-" for a setting left
// out (so that %v shows values, not pointers).
func (s *ServerSection) String() string {
	if s == nil {
		return "<nil>"
	}
	return fmt.Sprintf("{port:%s lan:%s public_url:%s https:%s inspector:%s inspector_keep:%s}",
		showSetting(s.Port), showSetting(s.LAN), showSetting(s.PublicURL), showSetting(s.HTTPS), showSetting(s.Inspector), showSetting(s.InspectorKeep))
}

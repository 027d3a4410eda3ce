package actions

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"slices"
	"strings"
)

// MaxDynamicHosts is how many hosts a dynamic target may list.
const MaxDynamicHosts = 50

// Dynamic makes a target's URL settable from outside (bt.tn's dynamic
// webhooks): the user's own server sets it through the local server's REST
// API, and presses go there; the target's own URL, if any, is the fallback
// while none is set.
type Dynamic struct {
	Enabled bool `json:"enabled"`
	// Hosts are the hosts the API may point the target at: "example.com"
	// (that host only) or "*.example.com" (its subdomains, not example.com
	// itself). Empty: any host, unless the target carries secrets (see
	// Target.CheckDynamicURL).
	Hosts []string `json:"hosts,omitempty"`
}

func (d Dynamic) validate(add adder) {
	if len(d.Hosts) > MaxDynamicHosts {
		add("dynamic.hosts", "lists %d hosts, more than %d: use a wildcard like *.example.com", len(d.Hosts), MaxDynamicHosts)
	}
	for i, h := range d.Hosts {
		if err := checkHostPattern(h); err != nil {
			add(fmt.Sprintf("dynamic.hosts[%d]", i), "%v", err)
		}
	}
}

// checkHostPattern checks one entry of Dynamic.Hosts.
func checkHostPattern(h string) error {
	name := strings.TrimPrefix(h, "*.")
	switch {
	case h == "":
		return errors.New("is empty: write a host name like example.com or *.example.com")
	case strings.Contains(h, "://") || strings.ContainsAny(h, "/?#@"):
		return fmt.Errorf("%q is not a host name: write the host alone, like example.com, without scheme or path", h)
	case net.ParseIP(name) != nil:
		if name != h {
			return fmt.Errorf("%q: a wildcard needs a domain, not an IP address", h)
		}
		return nil
	case len(name) > 253:
		return fmt.Errorf("%q is longer than 253 characters", h)
	case strings.Contains(name, "*"):
		return fmt.Errorf("%q: a wildcard may only start the name, as in *.example.com", h)
	case strings.Contains(name, ":"):
		return fmt.Errorf("%q: leave the port out (any port of the host is allowed)", h)
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || strings.ContainsFunc(label, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
		}) {
			return fmt.Errorf("%q is not a host name: use letters, digits, - and dots, like example.com or *.example.com", h)
		}
	}
	return nil
}

// allows reports whether host (as url.URL.Hostname gives it) matches one of
// d.Hosts.
func (d Dynamic) allows(host string) bool {
	host = normalHost(host)
	return slices.ContainsFunc(d.Hosts, func(p string) bool {
		p = normalHost(p)
		if sub, ok := strings.CutPrefix(p, "*."); ok {
			return strings.HasSuffix(host, "."+sub)
		}
		if ip := net.ParseIP(p); ip != nil {
			return ip.Equal(net.ParseIP(host))
		}
		return host == p
	})
}

func normalHost(h string) string { return strings.TrimSuffix(strings.ToLower(h), ".") }

// SecretCarriers names the fields of t that send a secret with every
// request: secret references (auth, signing), header rows whose name
// carries a secret (as redirects and previews decide it), and query and
// form rows whose key looks secret (as RedactURL decides it). Empty when t
// sends no secret.
func (t Target) SecretCarriers() []string {
	out := slices.Sorted(maps.Keys(t.SecretRefs()))
	own := t.Auth.secretHeaders()
	for i, h := range t.Headers {
		if carriesSecret(h.Key, own) {
			out = append(out, fmt.Sprintf("headers[%d] (%s)", i, h.Key))
		}
	}
	rows := func(field string, kvs []KV) {
		for i, kv := range kvs {
			if secretParam(kv.Key) {
				out = append(out, fmt.Sprintf("%s[%d] (%s)", field, i, kv.Key))
			}
		}
	}
	rows("query", t.Query)
	if t.Body.Kind == BodyForm || t.Body.Kind == BodyMultipart {
		rows("body.form", t.Body.Form)
	}
	return out
}

// secretParam reports whether a query or form key looks like it carries a
// secret (api_key, token, password...).
func secretParam(key string) bool {
	k := strings.ToLower(key)
	return slices.ContainsFunc(secretParams, func(s string) bool { return strings.Contains(k, s) })
}

// CheckDynamicURL checks raw as the dynamic URL of t: a URL t could have
// as its own (http or https, with a host, no user info, within the length
// limit, https for a TLS policy or a chat preset), with no tag in its host,
// and on a host t allows.
//
// Nothing a target sends may go to a host it was not meant for: not its
// secrets, and not its body, headers, files or callback URL either, which
// may hold anything. So the host must match t.Dynamic.Hosts or, when that
// is empty, be the host of t's own URL; when that is empty too, nothing is
// allowed until hosts are listed. And a target that sends a secret
// (SecretCarriers) is only sent to https URLs, or http on loopback.
func (t Target) CheckDynamicURL(raw string) error {
	if err := validateURL(raw); err != nil {
		return fmt.Errorf("the URL %v", err)
	}
	u, err := url.Parse(raw)
	if err != nil || strings.ContainsAny(u.Host, "<>") {
		return errors.New("the URL's host may not hold tags: write the host itself")
	}
	if u.User != nil {
		return errors.New("the URL may not carry a user name or password: the target's auth sends credentials")
	}
	var problems []string
	add := func(field, format string, args ...any) {
		problems = append(problems, FieldError{field, fmt.Sprintf(format, args...)}.Error())
	}
	if t.TLS.isSet() { // the options themselves were checked when t was saved
		t.TLS.validateScheme(raw, add)
	}
	t.Preset.validateURL(raw, add)
	if len(problems) > 0 {
		return fmt.Errorf("the URL does not fit target %q: %s", t.Name, strings.Join(problems, "; "))
	}
	host := u.Hostname()
	if len(t.Dynamic.Hosts) > 0 {
		if !t.Dynamic.allows(host) {
			return fmt.Errorf("the host %s is not one target %q allows (%s): use one of them, or add it to the target's dynamic hosts in Buttonhook", host, t.Name, strings.Join(t.Dynamic.Hosts, ", "))
		}
	} else {
		own, _ := url.Parse(expandSample(t.URL))
		switch {
		case t.URL == "" || own == nil || own.Hostname() == "":
			return fmt.Errorf("target %q lists no hosts its URL may be set to, and has no URL of its own: list the allowed hosts in the target's dynamic hosts in Buttonhook", t.Name)
		case normalHost(own.Hostname()) != normalHost(host):
			return fmt.Errorf("target %q may only be set to URLs on its own host, %s: use that host, or list the allowed hosts in the target's dynamic hosts in Buttonhook", t.Name, own.Hostname())
		}
	}
	if u.Scheme != "https" && !isLoopback(host) {
		if carriers := t.SecretCarriers(); len(carriers) > 0 {
			return fmt.Errorf("target %q sends secrets (%s): its URL must be https://, so that they are not sent unencrypted", t.Name, strings.Join(carriers, ", "))
		}
	}
	return nil
}

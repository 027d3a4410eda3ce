package actions

// HTTP Digest access authentication, RFC 7616, as a client.
//
// The first request to an origin goes without credentials; the server's
// 401 challenge is answered by sending the request once more. The challenge
// is remembered per origin, so that later requests are authorized up front
// with the next nonce count and take one round trip. A stale nonce
// (stale=true), or a remembered nonce the server no longer accepts, costs
// one more round trip with the new nonce; credentials are never asked for
// again.

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"net/url"
	"strings"
)

// maxDigestSends bounds the requests of one digest attempt: a remembered
// nonce that is refused, then a nonce that turned stale in between.
const maxDigestSends = 3

// digestAlgorithm is a hash of RFC 7616 section 3.2 (or its -sess variant).
type digestAlgorithm struct {
	new  func() hash.Hash
	sess bool
	rank int // higher is stronger
}

// lookupDigestAlgorithm finds the algorithm a challenge names; "" is MD5.
func lookupDigestAlgorithm(name string) (digestAlgorithm, bool) {
	up := strings.ToUpper(name)
	base, sess := strings.CutSuffix(up, "-SESS")
	var a digestAlgorithm
	switch base {
	case "", "MD5":
		a = digestAlgorithm{new: md5.New, rank: 1}
	case "SHA-256":
		a = digestAlgorithm{new: sha256.New, rank: 2}
	case "SHA-512-256":
		a = digestAlgorithm{new: sha512.New512_256, rank: 3}
	default:
		return a, false
	}
	a.sess = sess
	return a, true
}

// h is H(data): the lower-case hex digest of s.
func (a digestAlgorithm) h(s string) string {
	d := a.new()
	d.Write([]byte(s))
	return hex.EncodeToString(d.Sum(nil))
}

// digestChallenge is a Digest challenge that Buttonhook can answer.
type digestChallenge struct {
	realm, nonce, opaque string
	algorithm            string // as the server wrote it; "" means MD5
	alg                  digestAlgorithm
	qop                  string // "auth", or "" for an RFC 2069 server that sends no qop
	stale, userhash      bool
	domain               []string // the protection space; none: the whole origin
}

// newDigestChallenge reads a Digest challenge's parameters, or says why
// Buttonhook cannot answer it.
func newDigestChallenge(p map[string]string) (digestChallenge, error) {
	d := digestChallenge{
		realm: p["realm"], nonce: p["nonce"], opaque: p["opaque"], algorithm: p["algorithm"],
		stale: strings.EqualFold(p["stale"], "true"), userhash: strings.EqualFold(p["userhash"], "true"),
		domain: strings.Fields(p["domain"]),
	}
	if _, ok := p["nonce"]; !ok {
		return d, errors.New("it has no nonce")
	}
	alg, ok := lookupDigestAlgorithm(d.algorithm)
	if !ok {
		return d, fmt.Errorf("algorithm %s", d.algorithm)
	}
	d.alg = alg
	if q, ok := p["qop"]; ok {
		var offered []string
		for _, o := range strings.Split(q, ",") {
			o = strings.TrimSpace(o)
			if strings.EqualFold(o, "auth") {
				d.qop = "auth"
			}
			offered = append(offered, o)
		}
		if d.qop == "" {
			return d, fmt.Errorf("qop %s", strings.Join(offered, ", "))
		}
	} else if alg.sess {
		return d, fmt.Errorf("algorithm %s without qop", d.algorithm)
	}
	return d, nil
}

// pickDigest chooses the strongest Digest challenge Buttonhook can answer
// among chs. found is false when there is no Digest challenge at all; err
// says why none of those offered can be answered.
func pickDigest(chs []authChallenge) (best digestChallenge, found bool, err error) {
	var problems []string
	for _, c := range chs {
		if !strings.EqualFold(c.scheme, "Digest") {
			continue
		}
		d, err := newDigestChallenge(c.params)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if !found || d.alg.rank > best.alg.rank {
			best, found = d, true
		}
	}
	if !found && len(problems) > 0 {
		return best, true, fmt.Errorf("the server asks for digest authorization that Buttonhook cannot answer (%s): Buttonhook answers the algorithms MD5, SHA-256 and SHA-512-256 (and their -sess variants) with qop=auth, not qop=auth-int", strings.Join(problems, "; "))
	}
	return best, found, nil
}

// covers reports whether the challenge's protection space holds u.
func (d *digestChallenge) covers(u *url.URL) bool {
	if len(d.domain) == 0 {
		return true
	}
	for _, dom := range d.domain {
		du, err := u.Parse(dom) // relative entries are paths on u's origin
		if err == nil && origin(du) == origin(u) && strings.HasPrefix(u.Path, du.Path) {
			return true
		}
	}
	return false
}

// response computes the request-digest of RFC 7616 section 3.4.1 for a
// request with method and uri, answering d as username with password, nc
// and cnonce.
func (d *digestChallenge) response(method, uri, username, password string, nc uint32, cnonce string) string {
	h := d.alg.h
	ha1 := h(username + ":" + d.realm + ":" + password)
	if d.alg.sess {
		ha1 = h(ha1 + ":" + d.nonce + ":" + cnonce)
	}
	ha2 := h(method + ":" + uri)
	if d.qop == "" {
		return h(ha1 + ":" + d.nonce + ":" + ha2)
	}
	return h(fmt.Sprintf("%s:%s:%08x:%s:%s:%s", ha1, d.nonce, nc, cnonce, d.qop, ha2))
}

// authorization is the Authorization header value answering d.
func (d *digestChallenge) authorization(method, uri, username, password string, nc uint32, cnonce string) string {
	var b strings.Builder
	b.WriteString("Digest ")
	switch {
	case d.userhash:
		fmt.Fprintf(&b, "username=%s, ", quotedString(d.alg.h(username+":"+d.realm)))
	case needsExtValue(username):
		fmt.Fprintf(&b, "username*=UTF-8''%s, ", extValue(username))
	default:
		fmt.Fprintf(&b, "username=%s, ", quotedString(username))
	}
	fmt.Fprintf(&b, "realm=%s, uri=%s, ", quotedString(d.realm), quotedString(uri))
	if d.algorithm != "" {
		fmt.Fprintf(&b, "algorithm=%s, ", d.algorithm)
	}
	fmt.Fprintf(&b, "nonce=%s, ", quotedString(d.nonce))
	if d.qop != "" {
		fmt.Fprintf(&b, "nc=%08x, cnonce=%s, qop=%s, ", nc, quotedString(cnonce), d.qop)
	}
	fmt.Fprintf(&b, "response=%s", quotedString(d.response(method, uri, username, password, nc, cnonce)))
	if d.opaque != "" {
		fmt.Fprintf(&b, ", opaque=%s", quotedString(d.opaque))
	}
	if d.userhash {
		b.WriteString(", userhash=true")
	}
	return b.String()
}

// quotedString writes s as an HTTP quoted-string.
func quotedString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// needsExtValue reports whether a user name cannot go in a quoted-string and
// is sent as username* (RFC 7616 section 3.4.4).
func needsExtValue(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r > '~' })
}

// extValue encodes s as an RFC 8187 ext-value's value-chars (UTF-8).
func extValue(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c < 0x80 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0) {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// digestSession is the last challenge of an origin and how far its nonce
// has been counted.
type digestSession struct {
	ch     digestChallenge
	nc     uint32
	cnonce string // for -sess algorithms: fixed for the nonce's session
}

// digestTurn is what one request answers with: a challenge, a count and a
// client nonce.
type digestTurn struct {
	ch     digestChallenge
	nc     uint32
	cnonce string
}

// nextDigest takes the next nonce count of the challenge remembered for u's
// origin, if there is one whose protection space holds u.
func (st *authState) nextDigest(u *url.URL) (digestTurn, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	s := st.digests[origin(u)]
	if s == nil || !s.ch.covers(u) || s.nc == ^uint32(0) {
		return digestTurn{}, false
	}
	s.nc++
	return s.turn(), true
}

// rememberDigest makes ch the challenge of u's origin and takes its first
// nonce count. A challenge without qop (RFC 2069) answers one request only:
// it is not remembered.
func (st *authState) rememberDigest(u *url.URL, ch digestChallenge) digestTurn {
	s := &digestSession{ch: ch, nc: 1}
	if ch.alg.sess {
		s.cnonce = rand.Text()
	}
	t := s.turn() // before s is shared
	if ch.qop != "" {
		st.mu.Lock()
		if st.digests == nil {
			st.digests = map[string]*digestSession{}
		}
		st.digests[origin(u)] = s
		st.mu.Unlock()
	}
	return t
}

// nextNonce follows a server's Authentication-Info nextnonce (RFC 7616
// section 3.5) for the origin's next request.
func (st *authState) nextNonce(u *url.URL, h http.Header) {
	info := h.Get("Authentication-Info")
	if info == "" {
		return
	}
	chs := parseChallenges([]string{"Digest " + info})
	if len(chs) != 1 || chs[0].params["nextnonce"] == "" {
		return
	}
	next := chs[0].params["nextnonce"]
	st.mu.Lock()
	defer st.mu.Unlock()
	if s := st.digests[origin(u)]; s != nil && s.ch.nonce != next {
		s.ch.nonce, s.nc = next, 0
		if s.ch.alg.sess {
			s.cnonce = rand.Text()
		}
	}
}

// turn is the session's current turn; st.mu is held.
func (s *digestSession) turn() digestTurn {
	cnonce := s.cnonce
	if cnonce == "" {
		cnonce = rand.Text() // 128 random bits
	}
	return digestTurn{ch: s.ch, nc: s.nc, cnonce: cnonce}
}

// digest sends req with digest authorization as username with password.
func (st *authState) digest(req *http.Request, c *http.Client, username, password string) (*http.Response, error) {
	if !canResend(req) {
		return nil, errors.New("auth: digest authorization may have to send the request twice, and this request's body cannot be read again: choose another body or another auth kind")
	}
	method, uri := req.Method, req.URL.RequestURI()
	var sent *digestTurn // what the request in flight answers; nil: nothing
	remembered := false  // whether that was a remembered challenge
	if t, ok := st.nextDigest(req.URL); ok {
		req.Header.Set("Authorization", t.ch.authorization(method, uri, username, password, t.nc, t.cnonce))
		sent, remembered = &t, true
	}
	r := req
	for n := 1; ; n++ {
		resp, err := c.Do(r)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusUnauthorized {
			if sent != nil {
				st.nextNonce(req.URL, resp.Header)
			}
			return resp, nil
		}
		ch, found, err := pickDigest(parseChallenges(resp.Header.Values("Www-Authenticate")))
		if err != nil {
			discard(resp)
			return nil, err
		}
		if !found {
			return resp, nil // not a digest challenge: the 401 is the result
		}
		// Answer the challenge if the request was not authorized, was
		// authorized with a remembered nonce, or its fresh nonce went stale
		// on the way; else the 401 is the result (a wrong password).
		answer := sent == nil || remembered || ch.stale && ch.nonce != sent.ch.nonce
		t := st.rememberDigest(req.URL, ch)
		if !answer || n == maxDigestSends {
			return resp, nil
		}
		discard(resp)
		if r, err = again(req); err != nil {
			return nil, err
		}
		r.Header.Set("Authorization", t.ch.authorization(method, uri, username, password, t.nc, t.cnonce))
		sent, remembered = &t, false
	}
}

// authChallenge is one challenge of a WWW-Authenticate header: a scheme
// and its parameters (names in lower case).
type authChallenge struct {
	scheme string
	params map[string]string
}

// parseChallenges reads the challenges of WWW-Authenticate header values
// (RFC 9110 section 11.6.1): several may share one value, separated by
// commas, and parameter values may be quoted strings holding commas and
// escaped quotes. A token68 credential is skipped.
func parseChallenges(values []string) []authChallenge {
	var out []authChallenge
	for _, v := range values {
		p := headerParser{s: v}
		for {
			p.skip(" \t,")
			if p.done() {
				break
			}
			tok := p.token()
			if tok == "" {
				break // not a header we understand: stop reading this value
			}
			p.skip(" \t")
			if !p.take('=') {
				out = append(out, authChallenge{scheme: tok, params: map[string]string{}})
				continue
			}
			if p.done() || p.s[p.i] == '=' || p.s[p.i] == ',' {
				for p.take('=') { // a token68 credential ("abc/def=="): skip it
				}
				continue
			}
			p.skip(" \t")
			var val string
			if p.take('"') {
				val = p.quoted()
			} else {
				val = p.token()
			}
			if len(out) > 0 {
				name := strings.ToLower(tok)
				if _, dup := out[len(out)-1].params[name]; !dup {
					out[len(out)-1].params[name] = val
				}
			}
		}
	}
	return out
}

type headerParser struct {
	s string
	i int
}

func (p *headerParser) done() bool { return p.i >= len(p.s) }

func (p *headerParser) skip(chars string) {
	for p.i < len(p.s) && strings.IndexByte(chars, p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *headerParser) take(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// token reads an RFC 9110 token (and the characters token68 adds).
func (p *headerParser) token() string {
	start := p.i
	for p.i < len(p.s) && (isTokenChar(p.s[p.i]) || p.s[p.i] == '/') {
		p.i++
	}
	return p.s[start:p.i]
}

// quoted reads the rest of a quoted-string whose opening quote was taken.
func (p *headerParser) quoted() string {
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		switch {
		case c == '"':
			return b.String()
		case c == '\\' && p.i < len(p.s):
			b.WriteByte(p.s[p.i])
			p.i++
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isTokenChar(c byte) bool {
	return c > ' ' && c < 0x7f && strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) < 0
}

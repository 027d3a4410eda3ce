package actions

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
)

// TLS is a target's certificate policy. By default certificates are
// verified against the system's roots. At most one of the three is set.
type TLS struct {
	// PinSHA256 accepts exactly the server certificate with this SHA-256
	// fingerprint (hex, colons allowed, any case), for self-signed servers.
	// Nothing else about the certificate (issuer, names, dates) is checked.
	PinSHA256 string `json:"pin_sha256,omitempty"`
	// CAPEM trusts these CA certificates (PEM) instead of the system's.
	CAPEM string `json:"ca_pem,omitempty"`
	// Insecure skips verification (bt.tn's option): encrypted, not
	// authenticated. Validation warns about it.
	Insecure bool `json:"insecure,omitempty"`
}

func (t TLS) validate(rawURL string, add adder) {
	set := 0
	if t.PinSHA256 != "" {
		set++
		if _, err := parsePin(t.PinSHA256); err != nil {
			add("tls.pin_sha256", "%v", err)
		}
	}
	if t.CAPEM != "" {
		set++
		if _, err := parseCAs(t.CAPEM); err != nil {
			add("tls.ca_pem", "%v", err)
		}
	}
	if t.Insecure {
		set++
	}
	if set > 1 {
		add("tls", "choose one of a pinned fingerprint, a CA certificate or skipping verification")
	}
	if set > 0 {
		t.validateScheme(rawURL, add)
	}
}

// isSet reports whether t has any TLS option.
func (t TLS) isSet() bool { return t.PinSHA256 != "" || t.CAPEM != "" || t.Insecure }

// validateScheme refuses an http:// URL for TLS options (of a target that
// has some: see isSet).
func (t TLS) validateScheme(rawURL string, add adder) {
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(rawURL)), "http://") {
		add("tls", "applies only to https:// URLs: use https:// or remove the TLS options")
	}
}

// warnings lists what is allowed but unsafe in t, as "field: message".
func (t TLS) warnings() []string {
	if t.Insecure {
		return []string{"tls.insecure: the server's identity is not checked: anyone on the network path can read and change the requests, secrets included; pin the server's certificate instead"}
	}
	return nil
}

// parsePin reads a SHA-256 fingerprint written in hex, with or without
// colons (or spaces), in any case.
func parsePin(s string) ([]byte, error) {
	h := strings.NewReplacer(":", "", " ", "").Replace(strings.TrimSpace(s))
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != sha256.Size {
		return nil, errors.New("is not a SHA-256 fingerprint: write 64 hex digits, colons allowed (AB:CD:…)")
	}
	return b, nil
}

// parseCAs reads PEM CA certificates; it needs at least one.
func parseCAs(s string) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	rest := []byte(s)
	n := 0
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d cannot be read: %v", n+1, err)
		}
		pool.AddCert(c)
		n++
	}
	if n == 0 {
		return nil, errors.New("holds no PEM certificate: paste the CA's certificate, starting with -----BEGIN CERTIFICATE-----")
	}
	return pool, nil
}

// Fingerprint is the SHA-256 fingerprint of a DER certificate, written as
// colon-separated upper-case hex pairs (AB:CD:…), as browsers and
// `openssl x509 -fingerprint -sha256` show it.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return hexPairs(sum[:])
}

// hexPairs writes b as AB:CD:….
func hexPairs(b []byte) string {
	var s strings.Builder
	for i, c := range b {
		if i > 0 {
			s.WriteByte(':')
		}
		fmt.Fprintf(&s, "%02X", c)
	}
	return s.String()
}

// FetchFingerprint connects to rawURL's host (https, default port 443),
// completes a TLS handshake without verifying anything and without sending
// an HTTP request, and returns the presented leaf certificate's fingerprint
// and subject, so that an editor can offer to pin it. It connects directly,
// not through a proxy; rawURL has its tags filled in.
func FetchFingerprint(ctx context.Context, rawURL string) (fingerprint string, subject string, err error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", "", fmt.Errorf("fetch certificate: the URL is not valid: %v", errors.Unwrap(err))
	}
	if u.Scheme != "https" || u.Hostname() == "" {
		return "", "", errors.New("fetch certificate: the URL must start with https:// and name a host")
	}
	port := u.Port()
	if port == "" {
		port = "443"
	}
	addr := net.JoinHostPort(u.Hostname(), port)
	ctx, cancel := context.WithTimeout(ctx, ConnectTimeout+HandshakeTimeout)
	defer cancel()
	conn, err := (&net.Dialer{Timeout: ConnectTimeout}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", "", fmt.Errorf("fetch certificate: cannot connect: %w", err)
	}
	tc := tls.Client(conn, &tls.Config{ServerName: u.Hostname(), InsecureSkipVerify: true, MinVersion: tls.VersionTLS12})
	defer tc.Close()
	hctx, hcancel := context.WithTimeout(ctx, HandshakeTimeout)
	defer hcancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		return "", "", fmt.Errorf("fetch certificate: TLS handshake with %s failed: %w", addr, explainHandshake(err))
	}
	certs := tc.ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return "", "", fmt.Errorf("fetch certificate: %s presented no certificate", addr)
	}
	return Fingerprint(certs[0].Raw), certName(certs[0]), nil
}

// certName names a certificate for a person: its subject, or its DNS
// names when the subject is empty.
func certName(c *x509.Certificate) string {
	if s := c.Subject.String(); s != "" {
		return s
	}
	names := slices.Clone(c.DNSNames)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	return strings.Join(names, ", ")
}

// config makes the client TLS configuration for a policy.
func (t TLS) config() (*tls.Config, error) {
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		// Resumption saves a round trip when a connection is opened again;
		// pinning is checked on resumed connections too (VerifyConnection).
		ClientSessionCache: tls.NewLRUClientSessionCache(32),
	}
	switch {
	case t.PinSHA256 != "":
		pin, err := parsePin(t.PinSHA256)
		if err != nil {
			return nil, fmt.Errorf("tls.pin_sha256: %v", err)
		}
		cfg.InsecureSkipVerify = true // replaced by the pin check below
		cfg.VerifyConnection = verifyPin(pin)
	case t.CAPEM != "":
		pool, err := parseCAs(t.CAPEM)
		if err != nil {
			return nil, fmt.Errorf("tls.ca_pem: %v", err)
		}
		cfg.RootCAs = pool
	case t.Insecure:
		cfg.InsecureSkipVerify = true
	}
	return cfg, nil
}

// verifyPin accepts a connection only when the server's leaf certificate
// has the pinned SHA-256 fingerprint. VerifyConnection (unlike
// VerifyPeerCertificate) also runs on resumed sessions, where it sees the
// certificates of the session being resumed.
func verifyPin(pin []byte) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return &tls.CertificateVerificationError{Err: errors.New("the server presented no certificate")}
		}
		leaf := cs.PeerCertificates[0]
		sum := sha256.Sum256(leaf.Raw)
		if subtle.ConstantTimeCompare(sum[:], pin) == 1 {
			return nil
		}
		return &tls.CertificateVerificationError{UnverifiedCertificates: cs.PeerCertificates, Err: &pinMismatchError{
			got: Fingerprint(leaf.Raw), want: hexPairs(pin)}}
	}
}

// pinMismatchError says which certificate the server presented instead of
// the pinned one (both fingerprints are public).
type pinMismatchError struct{ got, want string }

func (e *pinMismatchError) Error() string {
	return fmt.Sprintf("the server presented the certificate %s, but the target is pinned to %s: if the server's certificate was renewed, pin the new one", e.got, e.want)
}

// untrustedError is an x509 verification error with what to do about it.
type untrustedError struct {
	err  error
	hint string
}

func (e *untrustedError) Error() string { return e.err.Error() + " — " + e.hint }
func (e *untrustedError) Unwrap() error { return e.err }

// explainHandshake adds what to do to a TLS handshake error. A certificate
// that is not trusted stays a *tls.CertificateVerificationError whose Err
// names the presented certificate's fingerprint (public information) so
// that it can be pinned.
func explainHandshake(err error) error {
	var ce *tls.CertificateVerificationError
	if errors.As(err, &ce) {
		var pe *pinMismatchError
		var ue *untrustedError
		if errors.As(ce.Err, &pe) || errors.As(ce.Err, &ue) || len(ce.UnverifiedCertificates) == 0 {
			return err
		}
		leaf := ce.UnverifiedCertificates[0]
		fp := Fingerprint(leaf.Raw)
		var hint string
		var ua x509.UnknownAuthorityError
		var he x509.HostnameError
		var ie x509.CertificateInvalidError
		switch {
		case errors.As(ce.Err, &ua) && bytes.Equal(leaf.RawIssuer, leaf.RawSubject):
			hint = fmt.Sprintf("the server uses a self-signed certificate: pin its fingerprint %s or add its CA", fp)
		case errors.As(ce.Err, &ua):
			hint = fmt.Sprintf("the server's certificate is issued by %q, which this computer does not trust: add that CA's certificate, or pin the fingerprint %s", leaf.Issuer.String(), fp)
		case errors.As(ce.Err, &he):
			hint = fmt.Sprintf("use a URL with one of the certificate's names, or pin its fingerprint %s", fp)
		case errors.As(ce.Err, &ie) && ie.Reason == x509.Expired:
			hint = fmt.Sprintf("the certificate is outside its validity dates (also check this computer's clock): renew it on the server, or pin its fingerprint %s", fp)
		default:
			hint = fmt.Sprintf("the server presented the certificate %s", fp)
		}
		return &tls.CertificateVerificationError{UnverifiedCertificates: ce.UnverifiedCertificates, Err: &untrustedError{ce.Err, hint}}
	}
	var rh tls.RecordHeaderError
	if errors.As(err, &rh) {
		return fmt.Errorf("the server does not speak TLS on this port (is the URL http://?): %w", err)
	}
	if strings.Contains(err.Error(), "unsupported protocol version") || strings.Contains(err.Error(), "protocol version not supported") {
		return fmt.Errorf("the server offers only TLS older than 1.2, which Buttonhook refuses: %w", err)
	}
	if err.Error() == "net/http: TLS handshake timeout" {
		return fmt.Errorf("the TLS handshake did not finish within %s: %w", HandshakeTimeout, err)
	}
	return err
}

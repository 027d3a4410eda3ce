package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The local server's HTTPS certificate: self-signed, made once per data
// directory and kept, so that the fingerprint the user gave the other side
// stays true. The other side pins that fingerprint (no CA vouches for it).

// certValidity is how long a generated certificate is valid.
const certValidity = 5 * 365 * 24 * time.Hour

// certFiles are where the certificate and its key live in the data directory.
func certFiles(dataDir string) (cert, key string) {
	dir := filepath.Join(dataDir, "server")
	return filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
}

// loadOrCreateCert reads the data directory's certificate, or makes one
// valid for localhost, the loopback addresses and names (the machine's name
// and addresses). It returns the certificate's SHA-256 fingerprint.
func loadOrCreateCert(dataDir string, names []string) (tls.Certificate, string, error) {
	certPath, keyPath := certFiles(dataDir)
	_, errC := os.Stat(certPath)
	_, errK := os.Stat(keyPath)
	if errors.Is(errC, os.ErrNotExist) && errors.Is(errK, os.ErrNotExist) {
		if err := createCert(certPath, keyPath, names); err != nil {
			return tls.Certificate{}, "", fmt.Errorf("make the server's HTTPS certificate: %w", err)
		}
	}
	c, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return tls.Certificate{}, "", fmt.Errorf("the server's HTTPS certificate is unreadable (%v): delete %s and %s and Buttonhook makes a new one (then give its new fingerprint to the other side), or turn HTTPS off", err, certPath, keyPath)
	}
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		return tls.Certificate{}, "", fmt.Errorf("the server's HTTPS certificate %s is unreadable: %w", certPath, err)
	}
	if time.Now().After(leaf.NotAfter) {
		return tls.Certificate{}, "", fmt.Errorf("the server's HTTPS certificate %s expired on %s: delete it and %s and Buttonhook makes a new one", certPath, leaf.NotAfter.Format(time.DateOnly), keyPath)
	}
	c.Leaf = leaf
	return c, Fingerprint(leaf.Raw), nil
}

// Fingerprint is a certificate's SHA-256 fingerprint, as browsers and
// `openssl x509 -fingerprint -sha256` show it: colon-separated hex pairs.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

func createCert(certPath, keyPath string, names []string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "Buttonhook local server", Organization: []string{"Buttonhook"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(certValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if n != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(certPath), 0o700); err != nil {
		return err
	}
	if err := writeNew(keyPath, 0o600, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})); err != nil {
		return err
	}
	return writeNew(certPath, 0o644, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// writeNew writes a file that must not exist yet, and syncs it.
func writeNew(path string, mode os.FileMode, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

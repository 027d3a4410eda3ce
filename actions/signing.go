package actions

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// sign adds a Standard Webhooks signature to req: webhook-id (the trigger
// id), webhook-timestamp (Unix seconds) and webhook-signature
// "v1,<base64 HMAC-SHA256 of id.timestamp.body>" keyed with the base64 part
// of a whsec_ secret.
func sign(req *http.Request, secret, id string, now time.Time) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || len(key) == 0 {
		return fmt.Errorf("signing.secret: the secret is not a whsec_ key with a base64 part")
	}
	var body []byte
	if req.GetBody != nil {
		rc, err := req.GetBody()
		if err != nil {
			return fmt.Errorf("sign: read body: %w", err)
		}
		body, err = io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return fmt.Errorf("sign: read body: %w", err)
		}
	} else if req.Body != nil && req.Body != http.NoBody {
		return fmt.Errorf("sign: this body cannot be read twice, so it cannot be signed")
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", ts)
	req.Header.Set("webhook-signature", "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	return nil
}

package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The request headers.
const (
	HeaderDelivery  = "Chamber-Delivery"
	HeaderEvent     = "Chamber-Event"
	HeaderTimestamp = "Chamber-Timestamp"
	HeaderSignature = "Chamber-Signature"
)

// DefaultTolerance is how far from the receiver's clock Verify accepts a timestamp.
const DefaultTolerance = 5 * time.Minute

// Sign returns the Chamber-Signature header for body sent at ts, signed with each of
// secrets: "t=<unix seconds>" then ",v1=<hex HMAC-SHA256(secret, t + "." + body)>" per
// secret.
func Sign(ts time.Time, body []byte, secrets ...string) string {
	t := strconv.FormatInt(ts.Unix(), 10)
	var b strings.Builder
	b.WriteString("t=" + t)
	for _, s := range secrets {
		b.WriteString(",v1=" + hex.EncodeToString(mac(s, t, body)))
	}
	return b.String()
}

func mac(secret, t string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(t))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks a Chamber-Signature header against the raw body received and one of
// the receiver's secrets (during a rotation, call it with each). It returns the signed
// timestamp, or an error wrapping ErrBadSignature when no v1 signature matches or the
// timestamp is more than tolerance (DefaultTolerance if 0) from now.
func Verify(header string, body []byte, secret string, now time.Time, tolerance time.Duration) (time.Time, error) {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	var t string
	var sigs [][]byte
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			t = v
		case "v1":
			if b, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, b)
			}
		}
	}
	secs, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("no timestamp in the signature header: %w", ErrBadSignature)
	}
	ts := time.Unix(secs, 0).UTC()
	if d := now.Sub(ts); d > tolerance || d < -tolerance {
		return time.Time{}, fmt.Errorf("timestamp %s is %s from now: %w", ts.Format(time.RFC3339), d.Round(time.Second), ErrBadSignature)
	}
	want := mac(secret, t, body)
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			return ts, nil
		}
	}
	return time.Time{}, fmt.Errorf("no v1 signature matches: %w", ErrBadSignature)
}

// VerifyRequest is Verify for an http.Request whose body has been read into body.
func VerifyRequest(r *http.Request, body []byte, secret string, now time.Time, tolerance time.Duration) error {
	ts, err := Verify(r.Header.Get(HeaderSignature), body, secret, now, tolerance)
	if err != nil {
		return err
	}
	if h := r.Header.Get(HeaderTimestamp); h != strconv.FormatInt(ts.Unix(), 10) {
		return fmt.Errorf("%s %q differs from the signed timestamp: %w", HeaderTimestamp, h, ErrBadSignature)
	}
	return nil
}

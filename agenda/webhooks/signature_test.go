package webhooks_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/chamber/chamber/agenda/webhooks"
)

func TestSignMatchesTheDocumentedScheme(t *testing.T) {
	ts := time.Unix(1778088600, 0)
	body := []byte(`{"id":"dlv_1","type":"meeting.started"}`)
	m := hmac.New(sha256.New, []byte("whsec_test"))
	m.Write([]byte("1778088600." + string(body)))
	want := "t=1778088600,v1=" + hex.EncodeToString(m.Sum(nil))
	if got := webhooks.Sign(ts, body, "whsec_test"); got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}

func TestVerify(t *testing.T) {
	now := time.Unix(1778088600, 0)
	body := []byte(`{"id":"dlv_1","type":"meeting.started","data":{}}`)
	two := webhooks.Sign(now, body, "whsec_new", "whsec_old")
	for _, c := range []struct {
		name    string
		header  string
		body    []byte
		secret  string
		now     time.Time
		wantErr bool
	}{
		{name: "valid", header: webhooks.Sign(now, body, "whsec_a"), body: body, secret: "whsec_a", now: now},
		{name: "within tolerance", header: webhooks.Sign(now, body, "whsec_a"), body: body, secret: "whsec_a", now: now.Add(4 * time.Minute)},
		{name: "first of two", header: two, body: body, secret: "whsec_new", now: now},
		{name: "second of two", header: two, body: body, secret: "whsec_old", now: now},
		{name: "wrong secret", header: webhooks.Sign(now, body, "whsec_a"), body: body, secret: "whsec_b", now: now, wantErr: true},
		{name: "body changed", header: webhooks.Sign(now, body, "whsec_a"), body: append([]byte(" "), body...), secret: "whsec_a", now: now, wantErr: true},
		{name: "replayed late", header: webhooks.Sign(now, body, "whsec_a"), body: body, secret: "whsec_a", now: now.Add(6 * time.Minute), wantErr: true},
		{name: "from the future", header: webhooks.Sign(now, body, "whsec_a"), body: body, secret: "whsec_a", now: now.Add(-6 * time.Minute), wantErr: true},
		{name: "timestamp changed", header: strings.Replace(webhooks.Sign(now, body, "whsec_a"), "t=1778088600", "t=1778088601", 1),
			body: body, secret: "whsec_a", now: now, wantErr: true},
		{name: "no timestamp", header: "v1=00", body: body, secret: "whsec_a", now: now, wantErr: true},
		{name: "empty", header: "", body: body, secret: "whsec_a", now: now, wantErr: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := webhooks.Verify(c.header, c.body, c.secret, c.now, 0)
			if c.wantErr {
				if !errors.Is(err, webhooks.ErrBadSignature) {
					t.Errorf("Verify: got %v, want ErrBadSignature", err)
				}
				return
			}
			if err != nil {
				t.Errorf("Verify: %v", err)
			}
		})
	}
}

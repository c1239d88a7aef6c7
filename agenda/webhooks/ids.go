package webhooks

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"time"
)

// SecretPrefix begins every signing secret.
const SecretPrefix = "whsec_"

// newSecret returns a fresh signing secret: the prefix and 32 random bytes in base64url.
func newSecret(random io.Reader) (string, error) {
	b := make([]byte, 32)
	if _, err := io.ReadFull(random, b); err != nil {
		return "", fmt.Errorf("make a webhook secret: %w", err)
	}
	return SecretPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// crockford is the alphabet of delivery ids: Crockford's base 32, which sorts as the
// numbers it encodes.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// newDeliveryID returns "dlv_" and 26 characters: 48 bits of milliseconds since the Unix
// epoch, then 80 random bits (a ULID), so that ids sort by creation time.
func newDeliveryID(now time.Time, random io.Reader) (string, error) {
	var b [16]byte
	ms := uint64(now.UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	if _, err := io.ReadFull(random, b[6:]); err != nil {
		return "", fmt.Errorf("make a delivery id: %w", err)
	}
	hi, lo := binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
	var out [26]byte
	// 128 bits in 26 five-bit digits: the first digit holds the top 3 bits.
	for i := 25; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return "dlv_" + string(out[:]), nil
}

// fraction returns a random number in [0, 1).
func fraction(random io.Reader) float64 {
	var b [8]byte
	if _, err := io.ReadFull(random, b[:]); err != nil {
		return 0.5
	}
	return float64(binary.BigEndian.Uint64(b[:])>>11) / (1 << 53)
}

package migrations

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"time"
)

// Secret returns the server-wide secret called name, making it from size random bytes
// the first time any node asks. Every node of a deployment gets the same bytes.
func (db *DB) Secret(ctx context.Context, name string, size int) ([]byte, error) {
	fresh := make([]byte, size)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	// Whoever inserts first wins; everyone then reads the winner's value.
	if _, err := db.ExecContext(ctx, db.Rebind(`INSERT INTO server_secrets (name, value, created_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO NOTHING`), name, base64.StdEncoding.EncodeToString(fresh), time.Now().UTC()); err != nil {
		return nil, fmt.Errorf("store secret %s: %w", name, err)
	}
	var v string
	if err := db.QueryRowContext(ctx, db.Rebind(`SELECT value FROM server_secrets WHERE name = ?`), name).Scan(&v); err != nil {
		return nil, fmt.Errorf("read secret %s: %w", name, err)
	}
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil || len(b) != size {
		return nil, fmt.Errorf("secret %s is corrupt", name)
	}
	return b, nil
}

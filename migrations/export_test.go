package migrations

// Kept returns how many prepared statements db keeps, on both pools.
func (db *DB) Kept() int {
	n := 0
	for _, c := range []*stmtCache{db.written, db.read} {
		c.mu.Lock()
		n += len(c.stmts)
		c.mu.Unlock()
		if db.read == db.written {
			break
		}
	}
	return n
}

package web

import (
	"context"
	"net/http"
	"sync"
)

// healthz answers 200 while the process runs.
func (s *Server) healthz(c *call) error {
	c.json(http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// readyz runs every readiness check at once, each with a short timeout, and answers 503
// naming the ones that failed. Their errors go to the log, not to the client.
func (s *Server) readyz(c *call) error {
	results := make([]error, len(s.ready))
	var wg sync.WaitGroup
	for i, chk := range s.ready {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(c.r.Context(), readyTimeout)
			defer cancel()
			results[i] = chk.Check(ctx)
		})
	}
	wg.Wait()
	checks := make(map[string]string, len(s.ready))
	failed := false
	for i, chk := range s.ready {
		if err := results[i]; err != nil {
			failed = true
			checks[chk.Name] = "failed"
			s.log.Warn("readiness check failed", "check", chk.Name, "err", err)
			continue
		}
		checks[chk.Name] = "ok"
	}
	if failed {
		return &httpError{kind: probNotReady, detail: "A readiness check failed.", checks: checks}
	}
	c.json(http.StatusOK, map[string]any{"status": "ready", "checks": checks})
	return nil
}

func (s *Server) serveMetrics(c *call) error {
	s.prom.ServeHTTP(c.w, c.r)
	return nil
}

func (s *Server) serveOpenAPI(c *call) error {
	h := c.w.Header()
	h.Set("Content-Type", mediaJSON)
	h.Set("Cache-Control", "public, max-age=300")
	c.w.Write(s.openapi)
	return nil
}

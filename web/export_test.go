package web

import "net/http"

// Registered returns the patterns given to the mux, routes and catch-alls apart.
func Registered(s *Server) (routes, fallbacks []string) {
	for _, r := range s.registered {
		if r.Fallback {
			fallbacks = append(fallbacks, r.Pattern)
		} else {
			routes = append(routes, r.Pattern)
		}
	}
	return routes, fallbacks
}

// MuxPattern returns the pattern the mux picks for r.
func MuxPattern(s *Server, r *http.Request) string {
	_, p := s.mux.Handler(r)
	return p
}

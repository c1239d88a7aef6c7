package webhooks

import "context"

// ClaimOnly claims up to n due deliveries as a worker does and then does nothing with
// them, like a worker that dies holding them; it says how many it claimed.
func (s *Service) ClaimOnly(ctx context.Context, n int) (int, error) {
	cs, err := s.claim(ctx, n)
	return len(cs), err
}

package agenda

// HoldHashTurns takes every turn to hash a password, as that many sign-ins being
// checked at once would, and returns the function that gives them back.
func (s *Service) HoldHashTurns() func() {
	n := cap(s.hashing)
	for range n {
		s.hashing <- struct{}{}
	}
	return func() {
		for range n {
			<-s.hashing
		}
	}
}

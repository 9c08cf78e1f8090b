package engine

import "github.com/promokit/promokit"

// KeyRefused reports whether the service refuses secret from memory (its
// negative answers), without asking the database.
func (s *Service) KeyRefused(secret string) bool {
	return s.keys.refused(string(promokit.HashKey(secret)), s.now())
}

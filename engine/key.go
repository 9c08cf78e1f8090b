package engine

import (
	"context"
	"sync"
	"time"

	"github.com/promokit/promokit"
)

// keyCache keeps authenticated keys for a short while, so that a request
// costs no database round trip for its key.
type keyCache struct {
	ttl time.Duration
	mu  sync.RWMutex
	m   map[string]keyEntry // by string(hash)
}

type keyEntry struct {
	p       promokit.Principal
	expires time.Time
}

func newKeyCache(ttl time.Duration) *keyCache {
	return &keyCache{ttl: ttl, m: make(map[string]keyEntry)}
}

func (c *keyCache) get(hash string, now time.Time) (promokit.Principal, bool) {
	if c.ttl < 0 {
		return promokit.Principal{}, false
	}
	c.mu.RLock()
	e, ok := c.m[hash]
	c.mu.RUnlock()
	if !ok || !now.Before(e.expires) {
		return promokit.Principal{}, false
	}
	return e.p, true
}

func (c *keyCache) put(hash string, p promokit.Principal, now time.Time) {
	if c.ttl < 0 {
		return
	}
	c.mu.Lock()
	if len(c.m) > 100_000 { // bound memory: start afresh
		c.m = make(map[string]keyEntry)
	}
	c.m[hash] = keyEntry{p: p, expires: now.Add(c.ttl)}
	c.mu.Unlock()
}

func (c *keyCache) dropKey(id string) {
	c.mu.Lock()
	for h, e := range c.m {
		if e.p.KeyID == id {
			delete(c.m, h)
		}
	}
	c.mu.Unlock()
}

// Authenticate returns the principal of a key secret. Unknown, malformed and
// revoked keys all give EUnauthenticated.
func (s *Service) Authenticate(ctx context.Context, secret string) (promokit.Principal, error) {
	// Built only when needed: a valid key is the hot path of every request.
	bad := func() error { return promokit.Errorf(promokit.EUnauthenticated, "the API key is not valid") }
	if len(secret) < 10 || len(secret) > 200 {
		return promokit.Principal{}, bad()
	}
	hash := promokit.HashKey(secret)
	now := time.Now()
	if p, ok := s.keys.get(string(hash), now); ok {
		return p, nil
	}
	var k *promokit.Key
	err := s.store.Read(ctx, func(tx Tx) error {
		var err error
		k, err = tx.KeyByHash(ctx, hash)
		return err
	})
	if isNotFound(err) || (err == nil && k.RevokedAt != nil) {
		return promokit.Principal{}, bad()
	}
	if err != nil {
		return promokit.Principal{}, err
	}
	p := k.Principal()
	s.keys.put(string(hash), p, now)
	return p, nil
}

// KeyInput is a request for a new key.
type KeyInput struct {
	Name      string        `json:"name"`
	Role      promokit.Role `json:"role"`
	StoreID   string        `json:"store_id"`
	PartnerID string        `json:"partner_id"`
}

// CreateKey creates a key and returns it with its secret, which is shown
// this once and never stored. The admin creates any key; a seller creates
// seller, checkout and storefront keys of its own store (another store is
// not found). The store or partner a key is bound to must exist.
func (s *Service) CreateKey(ctx context.Context, in KeyInput) (*promokit.Key, string, error) {
	p, err := require(ctx, promokit.RoleAdmin, promokit.RoleSeller)
	if err != nil {
		return nil, "", err
	}
	if p.Role == promokit.RoleSeller {
		if in.StoreID == "" {
			in.StoreID = p.StoreID
		}
		if in.StoreID != p.StoreID {
			return nil, "", notFound("store", in.StoreID)
		}
		switch in.Role {
		case promokit.RoleSeller, promokit.RoleCheckout, promokit.RoleStorefront:
		default:
			return nil, "", promokit.Errorf(promokit.EForbidden, "a seller may create seller, checkout and storefront keys only")
		}
	}
	now := s.now()
	secret := promokit.NewKeySecret()
	k := &promokit.Key{
		ID: promokit.NewID(promokit.PrefixKey, now), Name: in.Name, Role: in.Role,
		StoreID: in.StoreID, PartnerID: in.PartnerID,
		Prefix: promokit.KeyPrefix(secret), Hash: promokit.HashKey(secret), CreatedAt: now,
	}
	if err := k.Validate(); err != nil {
		return nil, "", err
	}
	err = s.store.Write(ctx, func(tx Tx) error {
		if k.StoreID != "" {
			if _, err := tx.GetStore(ctx, k.StoreID, false); err != nil {
				return fieldNotFound(err, "store_id", "store", k.StoreID)
			}
		}
		if k.PartnerID != "" {
			if _, err := tx.GetPartner(ctx, k.PartnerID); err != nil {
				return fieldNotFound(err, "partner_id", "partner", k.PartnerID)
			}
		}
		return tx.CreateKey(ctx, k)
	})
	if err != nil {
		return nil, "", err
	}
	return k, secret, nil
}

// fieldNotFound turns the ENotFound of a referenced object into an invalid
// field, since the request itself was found but names something missing.
func fieldNotFound(err error, field, what, id string) error {
	if !isNotFound(err) {
		return err
	}
	var v promokit.Validation
	v.Add(field, "not_found", "%s %q does not exist", what, id)
	return v.Err()
}

// ListKeys lists keys without their secrets: all for the admin, those of its
// store for a seller, its own for a partner.
func (s *Service) ListKeys(ctx context.Context, f KeyFilter) ([]*promokit.Key, error) {
	p, err := require(ctx, promokit.RoleAdmin, promokit.RoleSeller, promokit.RolePartner)
	if err != nil {
		return nil, err
	}
	switch p.Role {
	case promokit.RoleSeller:
		f.StoreID, f.PartnerID = p.StoreID, ""
	case promokit.RolePartner:
		f.StoreID, f.PartnerID = "", p.PartnerID
	}
	pageLimit(&f.Page)
	var keys []*promokit.Key
	err = s.store.Read(ctx, func(tx Tx) error {
		keys, err = tx.ListKeys(ctx, f)
		return err
	})
	return keys, err
}

// RevokeKey revokes a key at once in this process and within the key cache
// TTL in every other. Admins revoke any key, sellers their store's keys,
// partners their own; any other key is not found.
func (s *Service) RevokeKey(ctx context.Context, id string) (*promokit.Key, error) {
	p, err := require(ctx, promokit.RoleAdmin, promokit.RoleSeller, promokit.RolePartner)
	if err != nil {
		return nil, err
	}
	var k *promokit.Key
	err = s.store.Write(ctx, func(tx Tx) error {
		k, err = tx.GetKey(ctx, id)
		if err != nil {
			return err
		}
		if (p.Role == promokit.RoleSeller && k.StoreID != p.StoreID) ||
			(p.Role == promokit.RolePartner && k.PartnerID != p.PartnerID) {
			return notFound("key", id)
		}
		if k.RevokedAt != nil {
			return promokit.Errorf(promokit.EConflict, "key %q is already revoked", id)
		}
		now := s.now()
		k.RevokedAt = &now
		return tx.RevokeKey(ctx, id, now)
	})
	if err != nil {
		return nil, err
	}
	s.keys.dropKey(id)
	return k, nil
}

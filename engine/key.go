package engine

import (
	"context"
	"maps"
	"sync"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// keyCache keeps authenticated keys for a short while, so that a request
// costs no database round trip for its key, and the hashes of refused
// secrets (unknown or revoked keys) for a short while too, so that a flood
// of one wrong key costs no database read either.
type keyCache struct {
	ttl time.Duration
	mu  sync.RWMutex
	m   map[string]keyEntry  // by string(hash)
	bad map[string]time.Time // by string(hash): when the refusal expires
}

type keyEntry struct {
	p       promokit.Principal
	expires time.Time
}

// NegativeKeyTTL is how long a refused secret is refused again from memory
// before the database is asked anew. A key created by this process clears
// every refusal at once (CreateKey, Bootstrap); a key created by another
// process has a new random secret that no one can have sent before.
const NegativeKeyTTL = 30 * time.Second

// maxKeyCache bounds each of the caches: past it, a cache starts afresh
// (the refusals first drop the expired ones).
const maxKeyCache = 100_000

func newKeyCache(ttl time.Duration) *keyCache {
	return &keyCache{ttl: ttl, m: make(map[string]keyEntry), bad: make(map[string]time.Time)}
}

// get returns the principal of hash while its entry is fresh or, with a
// grace, until grace after it expired.
func (c *keyCache) get(hash string, now time.Time, grace time.Duration) (promokit.Principal, bool) {
	if c.ttl < 0 {
		return promokit.Principal{}, false
	}
	c.mu.RLock()
	e, ok := c.m[hash]
	c.mu.RUnlock()
	if !ok || !now.Before(e.expires.Add(grace)) {
		return promokit.Principal{}, false
	}
	return e.p, true
}

func (c *keyCache) put(hash string, p promokit.Principal, now time.Time) {
	if c.ttl < 0 {
		return
	}
	c.mu.Lock()
	if len(c.m) > maxKeyCache { // bound memory: start afresh
		c.m = make(map[string]keyEntry)
	}
	c.m[hash] = keyEntry{p: p, expires: now.Add(c.ttl)}
	c.mu.Unlock()
}

// refused reports whether hash was refused less than NegativeKeyTTL ago.
func (c *keyCache) refused(hash string, now time.Time) bool {
	if c.ttl < 0 {
		return false
	}
	c.mu.RLock()
	until, ok := c.bad[hash]
	c.mu.RUnlock()
	return ok && now.Before(until)
}

// refuse remembers that hash was refused, and forgets any principal it had.
func (c *keyCache) refuse(hash string, now time.Time) {
	if c.ttl < 0 {
		return
	}
	c.mu.Lock()
	delete(c.m, hash)
	if len(c.bad) >= maxKeyCache {
		maps.DeleteFunc(c.bad, func(_ string, until time.Time) bool { return !now.Before(until) })
		if len(c.bad) >= maxKeyCache {
			c.bad = make(map[string]time.Time)
		}
	}
	c.bad[hash] = now.Add(NegativeKeyTTL)
	c.mu.Unlock()
}

// clearRefused forgets every refused secret: a key was created.
func (c *keyCache) clearRefused() {
	c.mu.Lock()
	clear(c.bad)
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
// revoked keys all give EUnauthenticated. It limits nothing: the server
// calls AuthenticateFrom, which limits failed authentications.
func (s *Service) Authenticate(ctx context.Context, secret string) (promokit.Principal, error) {
	return s.AuthenticateFrom(ctx, secret, "", AuthLimits{})
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
	err = s.write(ctx, func(tx storage.Tx) error {
		if k.StoreID != "" {
			if _, err := tx.StoreGet(ctx, k.StoreID, false); err != nil {
				return fieldNotFound(err, "store_id", "store", k.StoreID)
			}
		}
		if k.PartnerID != "" {
			if _, err := tx.PartnerGet(ctx, k.PartnerID); err != nil {
				return fieldNotFound(err, "partner_id", "partner", k.PartnerID)
			}
		}
		return tx.KeyCreate(ctx, k)
	})
	if err != nil {
		return nil, "", err
	}
	s.keys.clearRefused()
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
func (s *Service) ListKeys(ctx context.Context, f storage.KeyFilter) ([]*promokit.Key, error) {
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
	f.Page.Bound()
	var keys []*promokit.Key
	err = s.read(ctx, func(tx storage.Tx) error {
		keys, err = tx.KeyList(ctx, f)
		return err
	})
	return keys, err
}

// RevokeKey revokes a key at once in this process and within the key cache
// TTL in every other, and ends its console sessions at once everywhere. Admins revoke any key, sellers their store's keys,
// partners their own; any other key is not found.
func (s *Service) RevokeKey(ctx context.Context, id string) (*promokit.Key, error) {
	p, err := require(ctx, promokit.RoleAdmin, promokit.RoleSeller, promokit.RolePartner)
	if err != nil {
		return nil, err
	}
	var k *promokit.Key
	err = s.write(ctx, func(tx storage.Tx) error {
		k, err = tx.KeyGet(ctx, id)
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
		if err := tx.KeyRevoke(ctx, id, now); err != nil {
			return err
		}
		// A session reads its key's revocation anyway; its rows go now.
		_, err = tx.SessionDeleteByKey(ctx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.keys.dropKey(id)
	return k, nil
}

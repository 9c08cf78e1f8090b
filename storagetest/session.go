package storagetest

import (
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// testSessions checks the round trip of console sessions with their key,
// touching, deleting one and a key's all, and the purge of expired and
// idle ones.
func testSessions(t *testing.T, b *bundle) {
	mustCreateStore(t, b, "sto_1")
	keys := []*promokit.Key{
		{ID: "key_1", Name: "Admin", Role: promokit.RoleAdmin, Prefix: "pk_aaaaaaa", Hash: promokit.HashKey("a"), CreatedAt: b.now},
		{ID: "key_2", Name: "Seller", Role: promokit.RoleSeller, StoreID: "sto_1", Prefix: "pk_bbbbbbb", Hash: promokit.HashKey("b"), CreatedAt: b.now},
	}
	newSession := func(id, keyID string, seen, expires time.Duration) *promokit.Session {
		return &promokit.Session{Hash: promokit.HashSession(id), KeyID: keyID, CreatedAt: b.now, SeenAt: b.at(seen), ExpiresAt: b.at(expires)}
	}
	s1 := newSession("one", "key_1", 0, 12*time.Hour)
	s2 := newSession("two", "key_2", time.Minute, 12*time.Hour)
	s3 := newSession("three", "key_2", 2*time.Minute, 12*time.Hour)
	b.write(t, func(tx storage.Tx) error {
		for _, k := range keys {
			if err := tx.KeyCreate(b.ctx, k); err != nil {
				return err
			}
		}
		for _, s := range []*promokit.Session{s1, s2, s3} {
			if err := tx.SessionCreate(b.ctx, s); err != nil {
				return err
			}
		}
		return nil
	})
	err := b.writeErr(func(tx storage.Tx) error { return tx.SessionCreate(b.ctx, newSession("one", "key_1", 0, time.Hour)) })
	wantErr(t, "a second session with one hash", err, storage.ErrExists)
	err = b.writeErr(func(tx storage.Tx) error {
		return tx.SessionCreate(b.ctx, newSession("four", "key_missing", 0, time.Hour))
	})
	wantErr(t, "a session of a missing key", err, storage.ErrNotFound)

	get := func(id string) *promokit.SessionKey {
		t.Helper()
		var sk *promokit.SessionKey
		b.read(t, func(tx storage.Tx) (err error) {
			sk, err = tx.SessionGet(b.ctx, promokit.HashSession(id))
			return err
		})
		return sk
	}
	key2 := *keys[1]
	key2.Hash = nil // a session's key comes without its hash
	wantEqual(t, "SessionGet", &promokit.SessionKey{Session: *s2, Key: key2}, get("two"))
	err = b.readErr(func(tx storage.Tx) error {
		_, err := tx.SessionGet(b.ctx, promokit.HashSession("missing"))
		return err
	})
	wantErr(t, "SessionGet of a missing session", err, storage.ErrNotFound)

	// Touching moves seen_at only.
	b.write(t, func(tx storage.Tx) error { return tx.SessionTouch(b.ctx, s2.Hash, b.at(time.Hour)) })
	want := *s2
	want.SeenAt = b.at(time.Hour)
	wantEqual(t, "touched session", &promokit.SessionKey{Session: want, Key: key2}, get("two"))
	err = b.writeErr(func(tx storage.Tx) error { return tx.SessionTouch(b.ctx, promokit.HashSession("missing"), b.now) })
	wantErr(t, "SessionTouch of a missing session", err, storage.ErrNotFound)

	// A revoked key's sessions come with the revocation.
	b.write(t, func(tx storage.Tx) error { return tx.KeyRevoke(b.ctx, "key_2", b.at(2*time.Hour)) })
	if sk := get("three"); sk.Key.RevokedAt == nil || !sk.Key.RevokedAt.Equal(b.at(2*time.Hour)) {
		t.Fatalf("session of a revoked key: revoked_at %v", sk.Key.RevokedAt)
	}
	var n int64
	b.write(t, func(tx storage.Tx) (err error) {
		n, err = tx.SessionDeleteByKey(b.ctx, "key_2")
		return err
	})
	if n != 2 {
		t.Fatalf("SessionDeleteByKey deleted %d, want 2", n)
	}
	for _, id := range []string{"two", "three"} {
		err = b.readErr(func(tx storage.Tx) error {
			_, err := tx.SessionGet(b.ctx, promokit.HashSession(id))
			return err
		})
		wantErr(t, "SessionGet of a deleted key's session", err, storage.ErrNotFound)
	}

	// Delete one.
	b.write(t, func(tx storage.Tx) error { return tx.SessionDelete(b.ctx, s1.Hash) })
	err = b.writeErr(func(tx storage.Tx) error { return tx.SessionDelete(b.ctx, s1.Hash) })
	wantErr(t, "SessionDelete of a deleted session", err, storage.ErrNotFound)

	// Purge: expired at now, or last seen before the idle bound.
	live := newSession("live", "key_1", time.Hour, 12*time.Hour)
	expired := newSession("expired", "key_1", 2*time.Hour, 3*time.Hour)
	idle := newSession("idle", "key_1", 30*time.Minute, 12*time.Hour)
	b.write(t, func(tx storage.Tx) error {
		for _, s := range []*promokit.Session{live, expired, idle} {
			if err := tx.SessionCreate(b.ctx, s); err != nil {
				return err
			}
		}
		return nil
	})
	b.write(t, func(tx storage.Tx) (err error) {
		n, err = tx.SessionPurge(b.ctx, b.at(3*time.Hour), b.at(time.Hour))
		return err
	})
	if n != 2 {
		t.Fatalf("SessionPurge deleted %d, want 2 (the expired and the idle session)", n)
	}
	if sk := get("live"); sk.KeyID != "key_1" {
		t.Fatalf("the live session after the purge: %+v", sk)
	}
}

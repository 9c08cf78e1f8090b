package storagetest

import (
	"errors"
	"testing"
	"time"

	"github.com/promokit/promokit/storage"
)

// testIdempotency checks the life of an idempotency record: created while
// its request runs, completed with the response, deleted, expired.
func testIdempotency(t *testing.T, b *bundle) {
	get := func(keyID, key string) (*storage.IdempotencyRecord, error) {
		var r *storage.IdempotencyRecord
		err := b.readErr(func(tx storage.Tx) (err error) {
			r, err = tx.IdempotencyGet(b.ctx, keyID, key)
			return err
		})
		return r, err
	}
	_, err := get("key_1", "k-1")
	wantErr(t, "IdempotencyGet of a missing record", err, storage.ErrNotFound)

	running := &storage.IdempotencyRecord{KeyID: "key_1", Key: "k-1", RequestHash: []byte{1, 2, 3, 0, 255}, CreatedAt: b.now}
	b.write(t, func(tx storage.Tx) error { return tx.IdempotencyCreate(b.ctx, running) })
	got, err := get("key_1", "k-1")
	if err != nil {
		t.Fatalf("IdempotencyGet: %v", err)
	}
	wantEqual(t, "running record", running, got)
	if got.Headers != nil || got.Body != nil {
		t.Errorf("running record has headers %q and body %q, want nil", got.Headers, got.Body)
	}

	// The same key of another API key is another record; the same key of
	// the same API key is a conflict.
	other := &storage.IdempotencyRecord{KeyID: "key_2", Key: "k-1", RequestHash: []byte{9}, CreatedAt: b.at(time.Hour)}
	b.write(t, func(tx storage.Tx) error { return tx.IdempotencyCreate(b.ctx, other) })
	dup := *running
	dup.RequestHash = []byte{7}
	err = b.writeErr(func(tx storage.Tx) error { return tx.IdempotencyCreate(b.ctx, &dup) })
	wantErr(t, "IdempotencyCreate of an existing key", err, storage.ErrExists)
	// The conflict writes nothing and the transaction goes on: the engine
	// creates a record first and reads the existing one only then.
	b.write(t, func(tx storage.Tx) error {
		wantErr(t, "IdempotencyCreate of an existing key", tx.IdempotencyCreate(b.ctx, &dup), storage.ErrExists)
		got, err := tx.IdempotencyGet(b.ctx, "key_1", "k-1")
		if err != nil {
			return err
		}
		wantEqual(t, "record after a conflicting create in its transaction", running, got)
		return tx.IdempotencyCreate(b.ctx, &storage.IdempotencyRecord{KeyID: "key_1", Key: "k-after", RequestHash: []byte{8}, CreatedAt: b.at(2 * time.Hour)})
	})
	if _, err := get("key_1", "k-after"); err != nil {
		t.Errorf("a record created after a conflict in one transaction: %v", err)
	}

	done := *running
	done.Status, done.Headers, done.Body = 201, []byte(`{"Location":["/v1/promotions/prm_1"]}`), []byte(`{"id":"prm_1"}`)
	b.write(t, func(tx storage.Tx) error { return tx.IdempotencyComplete(b.ctx, &done) })
	got, err = get("key_1", "k-1")
	if err != nil {
		t.Fatalf("IdempotencyGet after completion: %v", err)
	}
	wantEqual(t, "completed record", &done, got)
	missing := &storage.IdempotencyRecord{KeyID: "key_1", Key: "k-missing", Status: 200}
	err = b.writeErr(func(tx storage.Tx) error { return tx.IdempotencyComplete(b.ctx, missing) })
	wantErr(t, "IdempotencyComplete of a missing record", err, storage.ErrNotFound)

	b.write(t, func(tx storage.Tx) error { return tx.IdempotencyDelete(b.ctx, "key_1", "k-1") })
	_, err = get("key_1", "k-1")
	wantErr(t, "IdempotencyGet after IdempotencyDelete", err, storage.ErrNotFound)
	if _, err := get("key_2", "k-1"); err != nil {
		t.Fatalf("the other API key's record: %v", err)
	}

	// IdempotencyCreateMany inserts the new keys in order and leaves out a
	// key recorded already, also by an earlier record of the same call;
	// IdempotencyCompleteMany stores responses and reports the missing.
	batch := []*storage.IdempotencyRecord{
		{KeyID: "key_4", Key: "b-1", RequestHash: []byte{1}, CreatedAt: b.at(time.Hour)},
		{KeyID: "key_2", Key: "k-1", RequestHash: []byte{2}, CreatedAt: b.at(time.Hour)}, // exists
		{KeyID: "key_4", Key: "b-2", RequestHash: []byte{3}, CreatedAt: b.at(time.Hour + time.Second)},
		{KeyID: "key_4", Key: "b-1", RequestHash: []byte{4}, CreatedAt: b.at(time.Hour)}, // twice in the call
	}
	var created []bool
	b.write(t, func(tx storage.Tx) (err error) {
		created, err = tx.IdempotencyCreateMany(b.ctx, batch)
		return err
	})
	wantEqual(t, "records created", []bool{true, false, true, false}, created)
	for _, want := range []*storage.IdempotencyRecord{batch[0], batch[2], other} {
		got, err := get(want.KeyID, want.Key)
		if err != nil {
			t.Fatalf("IdempotencyGet %s/%s: %v", want.KeyID, want.Key, err)
		}
		wantEqual(t, "record "+want.Key+" after IdempotencyCreateMany", want, got)
	}
	answered := []*storage.IdempotencyRecord{
		{KeyID: "key_4", Key: "b-2", RequestHash: []byte{3}, Status: 200, Headers: []byte(`{}`), Body: []byte(`{"ok":true}`), CreatedAt: b.at(time.Hour + time.Second)},
		{KeyID: "key_4", Key: "b-missing", Status: 200},
		{KeyID: "key_4", Key: "b-1", RequestHash: []byte{1}, Status: 409, Body: []byte(`{"code":"x"}`), CreatedAt: b.at(time.Hour)},
	}
	var found []bool
	b.write(t, func(tx storage.Tx) (err error) {
		found, err = tx.IdempotencyCompleteMany(b.ctx, answered)
		return err
	})
	wantEqual(t, "records completed", []bool{true, false, true}, found)
	for _, want := range []*storage.IdempotencyRecord{answered[0], answered[2]} {
		got, err := get(want.KeyID, want.Key)
		if err != nil {
			t.Fatalf("IdempotencyGet %s: %v", want.Key, err)
		}
		wantEqual(t, "record "+want.Key+" after IdempotencyCompleteMany", want, got)
	}
	if _, err := get("key_4", "b-missing"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("IdempotencyCompleteMany created a missing record: %v", err)
	}

	// Expiry removes what was created strictly before the time given.
	for i, key := range []string{"e-0", "e-1", "e-2"} {
		r := &storage.IdempotencyRecord{KeyID: "key_3", Key: key, RequestHash: []byte{1}, CreatedAt: b.at(time.Duration(i) * time.Minute)}
		b.write(t, func(tx storage.Tx) error { return tx.IdempotencyCreate(b.ctx, r) })
	}
	var n int64
	b.write(t, func(tx storage.Tx) (err error) {
		n, err = tx.IdempotencyDeleteBefore(b.ctx, b.at(time.Minute))
		return err
	})
	if n != 1 {
		t.Fatalf("IdempotencyDeleteBefore = %d, want 1", n)
	}
	for key, found := range map[string]bool{"e-0": false, "e-1": true, "e-2": true} {
		_, err := get("key_3", key)
		if found != (err == nil) {
			t.Errorf("record %s after expiry: %v, want found=%v", key, err, found)
		}
	}
}

package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// TestGetStoreLock checks that GetStore with lock holds the store's row
// until the transaction ends: a second locking read waits for the first
// transaction and then sees what it committed.
func TestGetStoreLock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpenStore(t)
	now := time.Date(2026, 1, 1, 9, 30, 0, 0, time.UTC)
	st := &promokit.Store{ID: "sto_1", Name: "Before", CreatedAt: now}
	if err := s.Write(ctx, func(tx storage.Tx) error { return tx.StoreCreate(ctx, st) }); err != nil {
		t.Fatal(err)
	}
	locked := make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- s.Write(ctx, func(tx storage.Tx) error {
			got, err := tx.StoreGet(ctx, st.ID, true)
			if err != nil {
				return err
			}
			close(locked)
			// Give the second transaction time to queue on the lock.
			time.Sleep(200 * time.Millisecond)
			got.Name = "After"
			return tx.StoreUpdate(ctx, got)
		})
	}()
	<-locked
	var name string
	err := s.Write(ctx, func(tx storage.Tx) error {
		got, err := tx.StoreGet(ctx, st.ID, true)
		if err != nil {
			return err
		}
		name = got.Name
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if name != "After" {
		t.Errorf("second locking read saw %q, want %q: it did not wait for the lock", name, "After")
	}
}

// TestReadOnly checks that a write inside Read fails rather than commit
// on its own, as it does on SQLite.
func TestReadOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := MustOpenStore(t)
	now := time.Date(2026, 1, 1, 9, 30, 0, 0, time.UTC)
	err := s.Read(ctx, func(tx storage.Tx) error {
		return tx.StoreCreate(ctx, &promokit.Store{ID: "sto_1", Name: "One", CreatedAt: now})
	})
	if err == nil {
		t.Fatal("CreateStore inside Read succeeded")
	}
	err = s.Read(ctx, func(tx storage.Tx) error {
		_, err := tx.StoreGet(ctx, "sto_1", false)
		return err
	})
	if !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("GetStore after a write in Read = %v, want storage.ErrNotFound", err)
	}
}

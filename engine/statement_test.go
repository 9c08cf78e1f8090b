package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// TestPartyStatements checks the statements of the three parties over a
// ledger with every kind of entry a store has (written straight into the
// database, as the programs to come will write them): a store's accounts
// kept apart, the marketplace's, a partner's earnings by program, a
// payout's pair, counterparty narrowing, times in the marketplace's time
// zone, and who may read what.
func TestPartyStatements(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setupAffiliate(t, open, "Europe/Paris")
		shop, other, aff := b.shop.ID, b.other.ID, b.aff.ID
		at := func(day, hour int) time.Time { return time.Date(2026, 1, day, hour, 0, 0, 0, time.UTC) }
		e := func(payer, payee, program, status, kind string, amount int64, when time.Time) *promokit.LedgerEntry {
			store := payer
			if promokit.PartyKind(store) != promokit.PartyStore {
				store = payee
			}
			return &promokit.LedgerEntry{Payer: payer, Payee: payee, StoreID: store, OrderID: "o-1", Program: program,
				Status: status, Kind: kind, Amount: amount, Currency: "USD", CreatedAt: when}
		}
		entries := []*promokit.LedgerEntry{
			// December in Paris, then the first hour of January in Paris
			// (23:00 UTC on December 31).
			e(shop, aff, promokit.ProgramAffiliate, promokit.LedgerPayable, promokit.EntryReleased, 700, at(0, 12)),
			e(shop, aff, promokit.ProgramAffiliate, promokit.LedgerPending, promokit.EntryAccrued, 40, at(0, 23)),
			// January.
			e(shop, aff, promokit.ProgramAffiliate, promokit.LedgerPending, promokit.EntryAccrued, 500, at(3, 9)),
			e(shop, aff, promokit.ProgramTask, promokit.LedgerPayable, promokit.EntryAccrued, 2000, at(4, 9)),
			e(shop, promokit.Marketplace, promokit.ProgramPartnerCode, promokit.LedgerPending, promokit.EntryAccrued, 3, at(5, 9)),
			e(promokit.Marketplace, shop, promokit.ProgramEnvelope, promokit.LedgerPayable, promokit.EntryAccrued, 150, at(6, 9)),
			e(promokit.Marketplace, aff, promokit.ProgramEnvelope, promokit.LedgerPayable, promokit.EntryAccrued, 60, at(6, 9)),
			e(shop, aff, "", promokit.LedgerPayable, promokit.EntryPaidOut, -600, at(7, 9)),
			e(shop, aff, "", promokit.LedgerPaid, promokit.EntryPaidOut, 600, at(7, 9)),
			e(other, aff, promokit.ProgramAffiliate, promokit.LedgerPending, promokit.EntryAccrued, 9, at(8, 9)),
		}
		if err := b.store.Write(context.Background(), func(tx storage.Tx) error { return tx.LedgerAddMany(context.Background(), entries) }); err != nil {
			t.Fatal(err)
		}
		jan := time.Date(2026, 1, 1, 0, 0, 0, 0, b.loc)
		q := func(party, counterparty string) engine.StatementQuery {
			return engine.StatementQuery{Party: party, Counterparty: counterparty, From: jan.UTC(), To: jan.AddDate(0, 1, 0).UTC()}
		}
		mv := func(program, status, kind string, amount int64) engine.Movement {
			return engine.Movement{Program: program, Status: status, Kind: kind, Amount: amount, Entries: 1}
		}
		account := func(name, side, cp string, opening, closing engine.Balance, ms ...engine.Movement) engine.Account {
			if ms == nil {
				ms = []engine.Movement{}
			}
			return engine.Account{Account: name, Side: side, Counterparty: cp, Opening: opening, Movements: ms, Closing: closing}
		}
		for _, c := range []struct {
			name string
			ctx  context.Context
			q    engine.StatementQuery
			want []engine.Account
		}{
			{"the store's, by its seller", b.seller, q(shop, ""), []engine.Account{
				account("subsidies", promokit.SidePayee, promokit.PartyMarketplace, engine.Balance{}, engine.Balance{Payable: 150},
					mv(promokit.ProgramEnvelope, promokit.LedgerPayable, promokit.EntryAccrued, 150)),
				account("marketplace_fees", promokit.SidePayer, promokit.PartyMarketplace, engine.Balance{}, engine.Balance{Pending: 3},
					mv(promokit.ProgramPartnerCode, promokit.LedgerPending, promokit.EntryAccrued, 3)),
				account("commissions", promokit.SidePayer, promokit.PartyPartner,
					engine.Balance{Payable: 700}, engine.Balance{Pending: 540, Payable: 2100, Paid: 600},
					mv("", promokit.LedgerPaid, promokit.EntryPaidOut, 600), mv("", promokit.LedgerPayable, promokit.EntryPaidOut, -600),
					engine.Movement{Program: promokit.ProgramAffiliate, Status: promokit.LedgerPending, Kind: promokit.EntryAccrued, Amount: 540, Entries: 2},
					mv(promokit.ProgramTask, promokit.LedgerPayable, promokit.EntryAccrued, 2000)),
			}},
			{"the marketplace's, by the admin", b.admin, q(promokit.Marketplace, ""), []engine.Account{
				account("fees", promokit.SidePayee, promokit.PartyStore, engine.Balance{}, engine.Balance{Pending: 3},
					mv(promokit.ProgramPartnerCode, promokit.LedgerPending, promokit.EntryAccrued, 3)),
				account("partner_shares", promokit.SidePayer, promokit.PartyPartner, engine.Balance{}, engine.Balance{Payable: 60},
					mv(promokit.ProgramEnvelope, promokit.LedgerPayable, promokit.EntryAccrued, 60)),
				account("subsidies", promokit.SidePayer, promokit.PartyStore, engine.Balance{}, engine.Balance{Payable: 150},
					mv(promokit.ProgramEnvelope, promokit.LedgerPayable, promokit.EntryAccrued, 150)),
			}},
			{"the partner's, by itself", b.affiliate, q(aff, ""), []engine.Account{
				account("earnings_from_marketplace", promokit.SidePayee, promokit.PartyMarketplace, engine.Balance{}, engine.Balance{Payable: 60},
					mv(promokit.ProgramEnvelope, promokit.LedgerPayable, promokit.EntryAccrued, 60)),
				account("earnings_from_stores", promokit.SidePayee, promokit.PartyStore,
					engine.Balance{Payable: 700}, engine.Balance{Pending: 549, Payable: 2100, Paid: 600},
					mv("", promokit.LedgerPaid, promokit.EntryPaidOut, 600), mv("", promokit.LedgerPayable, promokit.EntryPaidOut, -600),
					engine.Movement{Program: promokit.ProgramAffiliate, Status: promokit.LedgerPending, Kind: promokit.EntryAccrued, Amount: 549, Entries: 3},
					mv(promokit.ProgramTask, promokit.LedgerPayable, promokit.EntryAccrued, 2000)),
			}},
			{"between the store and the partner, by the seller", b.seller, q(aff, shop), []engine.Account{
				account("earnings_from_stores", promokit.SidePayee, promokit.PartyStore,
					engine.Balance{Payable: 700}, engine.Balance{Pending: 540, Payable: 2100, Paid: 600},
					mv("", promokit.LedgerPaid, promokit.EntryPaidOut, 600), mv("", promokit.LedgerPayable, promokit.EntryPaidOut, -600),
					engine.Movement{Program: promokit.ProgramAffiliate, Status: promokit.LedgerPending, Kind: promokit.EntryAccrued, Amount: 540, Entries: 2},
					mv(promokit.ProgramTask, promokit.LedgerPayable, promokit.EntryAccrued, 2000)),
			}},
			{"between the marketplace and the store, by the seller", b.seller, q(promokit.Marketplace, shop), []engine.Account{
				account("fees", promokit.SidePayee, promokit.PartyStore, engine.Balance{}, engine.Balance{Pending: 3},
					mv(promokit.ProgramPartnerCode, promokit.LedgerPending, promokit.EntryAccrued, 3)),
				account("subsidies", promokit.SidePayer, promokit.PartyStore, engine.Balance{}, engine.Balance{Payable: 150},
					mv(promokit.ProgramEnvelope, promokit.LedgerPayable, promokit.EntryAccrued, 150)),
			}},
		} {
			st, err := b.svc.GetStatement(c.ctx, c.q)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if st.Party != c.q.Party || st.Counterparty != c.q.Counterparty || st.PartyKind != promokit.PartyKind(c.q.Party) ||
				st.TimeZone != "Europe/Paris" || st.From.Location().String() != "Europe/Paris" || !st.From.Equal(jan) || len(st.Currencies) != 1 {
				t.Fatalf("%s: %+v", c.name, st)
			}
			if diff := cmp.Diff(c.want, st.Currencies[0].Accounts); diff != "" {
				t.Errorf("%s: accounts (-want +got):\n%s", c.name, diff)
			}
		}

		// Entries: both sides, by id, in Paris time.
		list, err := b.svc.ListEntries(b.seller, q(shop, ""), storage.Page{Limit: 100})
		if err != nil || len(list) != 7 {
			t.Fatalf("the store's entries: %d, %v", len(list), err)
		}
		for _, e := range list {
			if e.CreatedAt.Location().String() != "Europe/Paris" || (e.Payer != shop && e.Payee != shop) {
				t.Fatalf("entry %+v", e)
			}
		}

		// Who may read what: a foreign store's seller, another partner
		// and the checkout nothing of it; a seller not the marketplace's
		// whole ledger; a party id that names nobody is not found.
		for _, c := range []struct {
			ctx  context.Context
			q    engine.StatementQuery
			code string
		}{
			{b.foreign, q(shop, ""), promokit.ENotFound},
			{b.foreign, q(aff, shop), promokit.ENotFound},
			{b.foreign, q(promokit.Marketplace, shop), promokit.ENotFound},
			{b.partner, q(aff, ""), promokit.ENotFound},
			{b.partner, q(shop, aff), promokit.ENotFound},
			{b.seller, q(aff, ""), promokit.ENotFound},
			{b.seller, q(promokit.Marketplace, ""), promokit.EForbidden},
			{b.affiliate, q(promokit.Marketplace, ""), promokit.EForbidden},
			{b.check, q(shop, ""), promokit.EForbidden},
			{b.admin, q("sto_missing", ""), promokit.ENotFound},
			{b.admin, q("nobody", ""), promokit.ENotFound},
			{b.admin, q(shop, shop), promokit.EInvalid},
		} {
			_, err := b.svc.GetStatement(c.ctx, c.q)
			wantCode(t, err, c.code)
			_, err = b.svc.ListEntries(c.ctx, c.q, storage.Page{})
			wantCode(t, err, c.code)
		}
	})
}

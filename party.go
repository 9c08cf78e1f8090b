package promokit

import "strings"

// Parties of the ledger. Every ledger entry moves money from a payer to a
// payee, each the marketplace, a store or a partner. A party is named by
// its id alone: the marketplace by Marketplace, a store and a partner by
// their ids, whose prefixes (PrefixStore, PrefixPartner) tell them apart.

// Marketplace is the marketplace's party id: the operator of the
// platform, which earns fees and shares, and pays subsidies and shares.
const Marketplace = "marketplace"

// Kinds of party.
const (
	PartyMarketplace = "marketplace"
	PartyStore       = "store"
	PartyPartner     = "partner"
)

// PartyKind returns the kind of the party id, "" when id names no party.
func PartyKind(id string) string {
	switch {
	case id == Marketplace:
		return PartyMarketplace
	case strings.HasPrefix(id, PrefixStore+"_"):
		return PartyStore
	case strings.HasPrefix(id, PrefixPartner+"_"):
		return PartyPartner
	}
	return ""
}

// A party's side of an entry.
const (
	SidePayer = "payer"
	SidePayee = "payee"
)

// Account names a party's entries with parties of one kind on one side:
// a store's commissions are what it pays partners, its marketplace fees
// what it pays the marketplace, its subsidies what the marketplace pays
// it. Statements keep each account apart. A pair with no name of its own
// is "to_" or "from_" and the counterparty's kind.
func Account(kind, side, counterparty string) string {
	switch kind + "/" + side + "/" + counterparty {
	case PartyStore + "/" + SidePayer + "/" + PartyPartner:
		return "commissions"
	case PartyStore + "/" + SidePayer + "/" + PartyMarketplace:
		return "marketplace_fees"
	case PartyStore + "/" + SidePayee + "/" + PartyMarketplace,
		PartyMarketplace + "/" + SidePayer + "/" + PartyStore:
		return "subsidies"
	case PartyPartner + "/" + SidePayee + "/" + PartyStore:
		return "earnings_from_stores"
	case PartyPartner + "/" + SidePayee + "/" + PartyMarketplace:
		return "earnings_from_marketplace"
	case PartyMarketplace + "/" + SidePayee + "/" + PartyStore:
		return "fees"
	case PartyMarketplace + "/" + SidePayer + "/" + PartyPartner:
		return "partner_shares"
	}
	if side == SidePayer {
		return "to_" + counterparty
	}
	return "from_" + counterparty
}

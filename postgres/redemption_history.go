package postgres

import (
	"context"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// codeRedemptionsSQL selects one page of a code's redemptions by id. It
// repeats the predicate of the partial index redemptions_code (migration
// 0013) so that a generic plan can prove it.
const codeRedemptionsSQL = `SELECT ` + redemptionColumns + ` FROM redemptions
	WHERE code = $1 AND code <> '' AND id > $2 ORDER BY id LIMIT $3`

// RedemptionListByCode returns one page of a code's redemptions, in every
// state, by id, after the id p.After.
func (t *tx) RedemptionListByCode(ctx context.Context, code string, p storage.IDPage) ([]*promokit.Redemption, error) {
	return queryList(ctx, t.q, "code redemptions", codeRedemptionsSQL, []any{code, p.After, p.Size()}, scanRedemption)
}

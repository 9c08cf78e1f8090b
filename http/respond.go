package http

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/promokit/promokit"
)

// writeJSON answers with status and v encoded as JSON. A v that carries a
// secret (a secretBody) is sent whole, but a response kept for replay
// keeps its redacted form (see secret.go).
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	body, err := json.Marshal(v)
	if err == nil {
		if sb, ok := v.(secretBody); ok {
			err = prepareSecret(w, sb)
		}
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// listJSON is one page of a list: the objects, and the cursor of the next
// page when this one is full.
type listJSON[T any] struct {
	Data       []T    `json:"data"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// newList returns a page of items. A full page has a next cursor, the
// cursor of its last item; the page after it may be empty.
func newList[T any](items []T, limit int, cursor func(T) string) listJSON[T] {
	if items == nil {
		items = []T{}
	}
	l := listJSON[T]{Data: items}
	if len(items) > 0 && len(items) >= limit {
		l.NextCursor = cursor(items[len(items)-1])
	}
	return l
}

// promotionJSON is a promotion as the API shows it: its fields and its
// status at the time of the request.
type promotionJSON struct {
	*promokit.Promotion
	Status promokit.Status `json:"status"`
}

// newPromotionJSON returns p with its status at now. A storewide
// promotion lists its products as [], never null.
func newPromotionJSON(p *promokit.Promotion, now time.Time) promotionJSON {
	if p.ProductIDs == nil {
		p.ProductIDs = []string{}
	}
	return promotionJSON{Promotion: p, Status: p.Status(now)}
}

package promokit

import "strconv"

// Page sizes of lists.
const (
	DefaultPageSize = 100  // the size of a page a request does not size
	MaxPageSize     = 1000 // the largest page a request may ask for
)

// Page selects one page of a list ordered by id: the objects after the
// cursor After (an id; empty for the first page), at most Limit of them.
type Page struct {
	After string
	Limit int
}

// Size returns the number of objects the page holds at most: Limit, or
// DefaultPageSize when it is not set.
func (p Page) Size() int {
	if p.Limit <= 0 {
		return DefaultPageSize
	}
	return p.Limit
}

// Bound gives a page that a request sized outside 1 to MaxPageSize the
// DefaultPageSize.
func (p *Page) Bound() {
	if p.Limit <= 0 || p.Limit > MaxPageSize {
		p.Limit = DefaultPageSize
	}
}

// IDAfter returns the cursor of a page of a list ordered by integer ids:
// the id After names, 0 for the first page. A cursor that is not a
// non-negative integer is EInvalid.
func (p Page) IDAfter() (int64, error) {
	if p.After == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(p.After, 10, 64)
	if err != nil || id < 0 {
		return 0, Errorf(EInvalid, "invalid page cursor %q", p.After)
	}
	return id, nil
}

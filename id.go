package promokit

import (
	"crypto/rand"
	"encoding/binary"
	"time"
)

// idAlphabet is Crockford's base32: sortable, no I, L, O or U.
const idAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewID returns a new identifier "prefix_" followed by 26 characters: 48 bits
// of milliseconds then 80 random bits, so identifiers sort by creation time
// and cannot be guessed. Cursor pagination relies on that order.
func NewID(prefix string, now time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	if _, err := rand.Read(b[6:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	out := make([]byte, 0, len(prefix)+1+26)
	out = append(out, prefix...)
	out = append(out, '_')
	// 128 bits as 26 base32 digits, most significant first.
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	var d [26]byte
	for i := 25; i >= 0; i-- {
		d[i] = idAlphabet[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(append(out, d[:]...))
}

// ID prefixes.
const (
	PrefixStore     = "sto"
	PrefixPartner   = "par"
	PrefixPromotion = "prm"
	PrefixKey       = "key"
	PrefixJob       = "job"
	PrefixMember    = "mem"
	PrefixLink      = "lnk"
	PrefixPayout    = "pay"
)

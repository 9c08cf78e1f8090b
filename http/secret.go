package http

import (
	"encoding/json"
	"net/http"

	"github.com/promokit/promokit"
)

// Secrets in responses. A response body that carries a secret (today the
// secret of a new API key) is a type that implements secretBody. writeJSON
// sends such a body whole, with Cache-Control: no-store, but hands the
// writer that keeps responses for replay (the recorder of a request with
// an Idempotency-Key) its redacted form only: a secret is never stored,
// and a replay says that it is withheld. A new route that mints a secret
// only has to give its body type a Redacted method.

// secretBody is a response body that carries a secret.
type secretBody interface {
	// Redacted returns the body without its secrets, saying that they
	// are withheld, as a replay of the request answers it.
	Redacted() any
}

// secretKeeper is a response writer that keeps the response it is given
// for later: it keeps body, the encoded redacted form, in place of what
// is written to it.
type secretKeeper interface {
	keepRedacted(body []byte)
}

// keepRedacted gives body, the redacted form of the secret response about
// to be written to w, to the first secretKeeper of w's chain of wrapped
// writers, if any.
func keepRedacted(w http.ResponseWriter, body []byte) {
	for {
		if k, ok := w.(secretKeeper); ok {
			k.keepRedacted(body)
			return
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return
		}
		w = u.Unwrap()
	}
}

// prepareSecret readies w for v, a body that carries a secret: it gives
// any keeper of the response v's redacted form and forbids caches to
// store the response.
func prepareSecret(w http.ResponseWriter, v secretBody) error {
	redacted, err := json.Marshal(v.Redacted())
	if err != nil {
		return err
	}
	keepRedacted(w, append(redacted, '\n'))
	w.Header().Set("Cache-Control", "no-store")
	return nil
}

// keyJSON is a new key with its secret, which the API shows this once.
type keyJSON struct {
	*promokit.Key
	Secret string `json:"secret"`
}

// withheldKeyJSON is a new key as a replay shows it: its secret is null
// and secret_withheld says that it was shown once and is not kept.
type withheldKeyJSON struct {
	*promokit.Key
	Secret         *string `json:"secret"`
	SecretWithheld bool    `json:"secret_withheld"`
}

// Redacted returns the key without its secret.
func (k keyJSON) Redacted() any {
	return withheldKeyJSON{Key: k.Key, SecretWithheld: true}
}

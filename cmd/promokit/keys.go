package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// KeysConfig is what "promokit keys" does: create a key, or list them.
// It works on the database directly, as the admin, so that whoever can
// reach the database (and so holds every secret of the marketplace
// already) can recover from a lost admin key.
type KeysConfig struct {
	// Action is "create" or "list".
	Action string `json:"action"`
	// Role is the role of the key to create (admin, seller, partner,
	// checkout or storefront), or the role list shows alone.
	Role string `json:"role,omitempty"`
	// Name names the key to create.
	Name string `json:"name,omitempty"`
	// StoreID binds the key to create to a store, or selects the keys
	// list shows.
	StoreID string `json:"store_id,omitempty"`
	// PartnerID binds the key to create to a partner, or selects the keys
	// list shows.
	PartnerID string `json:"partner_id,omitempty"`
	// File, when set, receives the new key's secret (mode 0600) instead of
	// standard output.
	File string `json:"file,omitempty"`
}

// keysFlags takes the action that follows "keys" in args, declares the
// flags of the keys command on fs and returns args from the action on,
// so that its flags follow it.
func keysFlags(fs *flag.FlagSet, c *Config, args []string) []string {
	if len(args) > 1 && !strings.HasPrefix(args[1], "-") {
		c.Keys.Action = args[1]
		args = args[1:]
	}
	fs.StringVar(&c.Keys.Role, "role", "", "create: the key's role: admin, seller, partner, checkout or storefront; list: show this role only")
	fs.StringVar(&c.Keys.Name, "name", "", "create: a name for the key")
	fs.StringVar(&c.Keys.StoreID, "store", "", "create: the store of a seller, storefront or store-bound checkout key; list: that store's keys only")
	fs.StringVar(&c.Keys.PartnerID, "partner", "", "create: the partner of a partner key; list: that partner's keys only")
	fs.StringVar(&c.Keys.File, "key-file", "", "create: write the secret to this file (mode 0600) instead of standard output")
	return args
}

// validate returns the problems of the keys command's settings.
func (k *KeysConfig) validate() []error {
	var errs []error
	switch k.Action {
	case "create":
		switch promokit.Role(k.Role) {
		case promokit.RoleAdmin, promokit.RoleSeller, promokit.RolePartner, promokit.RoleCheckout, promokit.RoleStorefront:
		case "":
			errs = append(errs, errors.New("promokit keys create needs --role: admin, seller, partner, checkout or storefront"))
		default:
			errs = append(errs, fmt.Errorf("--role %q: want admin, seller, partner, checkout or storefront", k.Role))
		}
	case "list":
		if k.Name != "" || k.File != "" {
			errs = append(errs, errors.New("promokit keys list takes no --name or --key-file"))
		}
	case "":
		errs = append(errs, errors.New("promokit keys needs an action: promokit keys create --role admin, or promokit keys list"))
	default:
		errs = append(errs, fmt.Errorf("promokit keys %s: want create or list", k.Action))
	}
	return errs
}

// runKeys creates or lists keys in the database of the configuration, as
// the admin. It migrates the database first, as serve would.
func (m *Main) runKeys(ctx context.Context) error {
	if err := m.openAndMigrate(ctx); err != nil {
		return err
	}
	svc := engine.New(engine.Config{DB: m.DB, Logger: m.logger})
	defer func() {
		_ = svc.Close(context.Background())
		m.DB.Close()
		m.DB = nil
	}()
	admin := promokit.NewContext(ctx, promokit.Principal{KeyID: "cli", Role: promokit.RoleAdmin})
	if m.Config.Keys.Action == "list" {
		return m.listKeys(admin, svc)
	}
	return m.createKey(admin, svc)
}

// createKey creates the key of the configuration and shows its secret
// once: on standard output, or in the key file.
func (m *Main) createKey(ctx context.Context, svc *engine.Service) error {
	kc := m.Config.Keys
	k, secret, err := svc.CreateKey(ctx, engine.KeyInput{
		Name: kc.Name, Role: promokit.Role(kc.Role), StoreID: kc.StoreID, PartnerID: kc.PartnerID,
	})
	if err != nil {
		return usageErrorFor(err)
	}
	m.logger.Info("created a key", "key_id", k.ID, "role", k.Role, "prefix", k.Prefix)
	if kc.File != "" {
		if err := writeSecretFile(kc.File, secret); err != nil {
			return fmt.Errorf("key %s was created, but its secret could not be written to %s: %w; revoke it (DELETE /v1/keys/%s) and create another", k.ID, kc.File, err, k.ID)
		}
		_, err := fmt.Fprintf(m.Stdout, "promokit: created %s key %s and wrote its secret to %s (mode 0600).\n", k.Role, k.ID, kc.File)
		return err
	}
	_, err = fmt.Fprintf(m.Stdout, `promokit: created %s key %s:

    %s

It is shown this once and only its hash is stored: keep it somewhere safe.
`, k.Role, k.ID, secret)
	return err
}

// usageErrorFor makes a refusal of the request (a bad role binding, a
// store or partner that does not exist) a usage error, which exits 2.
func usageErrorFor(err error) error {
	var e *promokit.Error
	if !errors.As(err, &e) || e.Code == promokit.EInternal {
		return err
	}
	if len(e.Fields) == 0 {
		return usageError{errors.New(e.Message)}
	}
	flags := map[string]string{"store_id": "--store", "partner_id": "--partner", "role": "--role", "name": "--name"}
	var errs []error
	for _, f := range e.Fields {
		name := flags[f.Field]
		if name == "" {
			name = f.Field
		}
		errs = append(errs, fmt.Errorf("%s: %s", name, f.Message))
	}
	return usageError{errors.Join(errs...)}
}

// listKeys prints every key the configuration selects, without secrets,
// one a line.
func (m *Main) listKeys(ctx context.Context, svc *engine.Service) error {
	kc := m.Config.Keys
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tROLE\tSTORE\tPARTNER\tPREFIX\tCREATED\tREVOKED\tNAME")
	f := storage.KeyFilter{StoreID: kc.StoreID, PartnerID: kc.PartnerID, Page: storage.Page{Limit: 500}}
	for {
		keys, err := svc.ListKeys(ctx, f)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if kc.Role != "" && string(k.Role) != kc.Role {
				continue
			}
			revoked := "-"
			if k.RevokedAt != nil {
				revoked = k.RevokedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Role, dash(k.StoreID), dash(k.PartnerID),
				k.Prefix, k.CreatedAt.UTC().Format(time.RFC3339), revoked, k.Name)
		}
		if len(keys) < f.Limit {
			break
		}
		f.After = keys[len(keys)-1].ID
	}
	return tw.Flush()
}

// dash returns s, or "-" when it is empty.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

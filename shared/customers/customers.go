// Package customers keeps the customer attributes that fairness checks
// need, keyed by pseudonym, in the bucket under customers/attributes/.
// The payload log holds pseudonymised customer ids only; whoever knows the
// customers (training, from the customer table; the insurer's systems, here
// the traffic simulation) writes their attributes with the same keyed hash,
// and the drift function joins them to the log. The protected attribute is
// never a model feature.
package customers

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/parquetio"
)

// Prefix is where attribute objects live.
const Prefix = "customers/attributes/"

// Attribute is one customer's protected attribute.
type Attribute struct {
	Customer string `parquet:"customer" json:"customer"` // pseudonym
	Sex      string `parquet:"sex,dict" json:"sex"`
}

// Write stores a batch of attributes under a source name (one object per
// source; writing the same source again replaces it).
func Write(ctx context.Context, b *blobstore.Bucket, source string, attrs []Attribute) error {
	if strings.ContainsAny(source, "/ ") || source == "" {
		return fmt.Errorf("customers: source %q must be a non-empty name without slashes or spaces", source)
	}
	data, err := parquetio.Encode(attrs)
	if err != nil {
		return err
	}
	if err := b.Write(ctx, Prefix+source+".parquet", data, "application/vnd.apache.parquet"); err != nil {
		return fmt.Errorf("customers: write %s: %w", source, err)
	}
	return nil
}

// Load reads every attribute object into a map from pseudonym to sex.
func Load(ctx context.Context, b *blobstore.Bucket) (map[string]string, error) {
	keys, err := b.Keys(ctx, Prefix)
	if err != nil {
		return nil, fmt.Errorf("customers: %w", err)
	}
	out := map[string]string{}
	for _, k := range keys {
		data, err := b.Read(ctx, k)
		if errors.Is(err, blobstore.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("customers: %w", err)
		}
		rows, err := parquetio.Decode[Attribute](data)
		if err != nil {
			return nil, fmt.Errorf("customers: %s: %w", k, err)
		}
		for _, r := range rows {
			out[r.Customer] = r.Sex
		}
	}
	return out, nil
}

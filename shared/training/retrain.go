package training

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"

	"github.com/claimrisk/claimrisk/shared/blobstore"
	"github.com/claimrisk/claimrisk/shared/customers"
	"github.com/claimrisk/claimrisk/shared/dataset"
	"github.com/claimrisk/claimrisk/shared/features"
	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/parquetio"
	"github.com/claimrisk/claimrisk/shared/predlog"
	"github.com/claimrisk/claimrisk/shared/runstore"
)

// ErrNothingToLearn marks a drift event without newly labelled rows: a
// retraining would reproduce the champion.
var ErrNothingToLearn = errors.New("training: no newly labelled predictions to learn from")

// TrainDrift retrains after drift: it fits the coefficients on every policy
// year of the champion's dataset plus the earlier half of the newly labelled
// predictions, fits the intercept again on that earlier half alone (the
// claim rate of now, the relativities of all the data), and validates out of
// time on the later half. It runs the same pipeline as TrainDataset;
// trigger names what reported the drift.
func (t *Trainer) TrainDrift(ctx context.Context, datasetID, labelledKey, trigger string) (Result, error) {
	if labelledKey == "" {
		return Result{}, ErrNothingToLearn
	}
	d, m, err := dataset.Load(ctx, t.Bucket, datasetID)
	if errors.Is(err, blobstore.ErrNotFound) {
		return Result{}, fmt.Errorf("%w: dataset %s is not in %s", ErrNoData, datasetID, t.Bucket.URL)
	}
	if err != nil {
		return Result{}, err
	}
	raw, err := t.Bucket.Read(ctx, labelledKey)
	if errors.Is(err, blobstore.ErrNotFound) {
		return Result{}, fmt.Errorf("%w: labelled rows %s are not in %s", ErrNoData, labelledKey, t.Bucket.URL)
	}
	if err != nil {
		return Result{}, err
	}
	rows, err := parquetio.Decode[predlog.ReferenceRow](raw)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %s: %v", dataset.ErrInvalid, labelledKey, err)
	}
	in, err := DriftInput(d, m, rows)
	if err != nil {
		return Result{}, err
	}
	// The labelled rows carry pseudonyms; their customers' attributes come
	// from the attribute store, for the fairness figures.
	attrs, err := customers.Load(ctx, t.Bucket)
	if err != nil {
		return Result{}, err
	}
	for _, set := range [][]features.Example{in.Valid, in.Recalibrate} {
		for i := range set {
			set[i].Sex = attrs[set[i].Record.CustomerID]
		}
	}
	// The training data is the dataset and the labelled rows: its
	// fingerprint covers both, so a redelivered event finds its runs.
	sum := sha256.Sum256(raw)
	fp := sha256.Sum256([]byte(m.Fingerprint + "+" + hex.EncodeToString(sum[:])))
	in.Fingerprint = hex.EncodeToString(fp[:])
	in.Trigger, in.LabelledKey = trigger, labelledKey
	return t.Train(ctx, in)
}

// MinLabelled is the fewest labelled rows a drift retraining accepts.
const MinLabelled = 100

// DriftInput builds the retraining data: the dataset's examples and the
// labelled rows, split in time.
func DriftInput(d *dataset.Dataset, m dataset.Manifest, labelled []predlog.ReferenceRow) (Input, error) {
	if len(labelled) < MinLabelled {
		return Input{}, fmt.Errorf("%w: %d labelled rows, fewer than %d", ErrNothingToLearn, len(labelled), MinLabelled)
	}
	old, err := features.Examples(d.Customers, d.Policies, d.Claims, d.Accidents)
	if err != nil {
		return Input{}, fmt.Errorf("training: dataset %s: %w", m.ID(), err)
	}
	fresh := Examples(labelled)
	for i := range fresh {
		fresh[i].Start = labelled[i].Time
	}
	sort.SliceStable(fresh, func(i, j int) bool { return fresh[i].Start.Before(fresh[j].Start) })
	half := len(fresh) / 2
	learn, valid := fresh[:half], fresh[half:]
	return Input{
		DatasetID:   m.ID(),
		Train:       append(old, learn...),
		Valid:       valid,
		Recalibrate: learn,
		Accidents:   features.NewAccidentIndex(d.Accidents),
	}, nil
}

// Untrained lists the stored datasets whose runs are not all finished for
// this trainer's parameters and code version, newest manifest last.
func (t *Trainer) Untrained(ctx context.Context) ([]string, error) {
	ids, err := t.Bucket.Dirs(ctx, dataset.Prefix)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, id := range ids {
		var m dataset.Manifest
		if err := t.Bucket.ReadJSON(ctx, dataset.KeyOf(id, dataset.ManifestObject), &m); err != nil {
			if errors.Is(err, blobstore.ErrNotFound) {
				continue // an upload in progress
			}
			return nil, err
		}
		for _, kind := range model.Kinds {
			if _, err := t.Runs.Get(ctx, RunID(m.Fingerprint, kind, t.L2, t.CodeVersion)); errors.Is(err, runstore.ErrNotFound) {
				out = append(out, id)
				break
			} else if err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

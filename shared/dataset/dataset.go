package dataset

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/claimrisk/claimrisk/shared/parquetio"
	"github.com/claimrisk/claimrisk/shared/schema"
)

// ErrInvalid marks data that breaks the schema. Its message names the
// object, the column and the problem.
var ErrInvalid = errors.New("dataset: invalid data")

// Dataset is the four input tables.
type Dataset struct {
	Customers []schema.Customer
	Policies  []schema.Policy
	Claims    []schema.Claim
	Accidents []schema.AccidentMonth
}

// Object names, one per table.
const (
	CustomersObject = "customers.parquet"
	PoliciesObject  = "policies.parquet"
	ClaimsObject    = "claims.parquet"
	AccidentsObject = "accidents.parquet"
	ManifestObject  = "manifest.json"
)

// ObjectNames lists the table objects in schema.Tables order.
var ObjectNames = []string{CustomersObject, PoliciesObject, ClaimsObject, AccidentsObject}

// Object describes one stored table.
type Object struct {
	Name   string `json:"name"`
	Table  string `json:"table"`
	Rows   int    `json:"rows"`
	Size   int    `json:"size"`
	SHA256 string `json:"sha256"`
}

// Manifest describes a stored dataset.
type Manifest struct {
	Fingerprint    string   `json:"fingerprint"`
	Objects        []Object `json:"objects"`
	PolicyYears    []int    `json:"policy_years"`
	FirstStart     string   `json:"first_policy_start"`
	LastStart      string   `json:"last_policy_start"`
	AccidentMonths []string `json:"accident_months"`
	AccidentSource string   `json:"accident_source"`
}

// ID is the short form of the fingerprint used in bucket keys.
func (m Manifest) ID() string { return IDOf(m.Fingerprint) }

// IDOf shortens a fingerprint to a dataset id.
func IDOf(fingerprint string) string {
	if len(fingerprint) > 16 {
		return fingerprint[:16]
	}
	return fingerprint
}

// Encode turns the tables into Parquet objects and describes them in a
// manifest. The tables must be valid.
func (d *Dataset) Encode(accidentSource string) (map[string][]byte, Manifest, error) {
	objs := map[string][]byte{}
	var err error
	if objs[CustomersObject], err = parquetio.Encode(d.Customers); err != nil {
		return nil, Manifest{}, err
	}
	if objs[PoliciesObject], err = parquetio.Encode(d.Policies); err != nil {
		return nil, Manifest{}, err
	}
	if objs[ClaimsObject], err = parquetio.Encode(d.Claims); err != nil {
		return nil, Manifest{}, err
	}
	if objs[AccidentsObject], err = parquetio.Encode(d.Accidents); err != nil {
		return nil, Manifest{}, err
	}
	return objs, d.manifest(objs, accidentSource), nil
}

func (d *Dataset) manifest(objs map[string][]byte, accidentSource string) Manifest {
	rows := []int{len(d.Customers), len(d.Policies), len(d.Claims), len(d.Accidents)}
	m := Manifest{AccidentSource: accidentSource}
	h := sha256.New()
	for i, name := range ObjectNames {
		sum := sha256.Sum256(objs[name])
		o := Object{Name: name, Table: schema.Tables[i].Name, Rows: rows[i], Size: len(objs[name]), SHA256: hex.EncodeToString(sum[:])}
		m.Objects = append(m.Objects, o)
		fmt.Fprintf(h, "%s %s\n", o.Name, o.SHA256)
	}
	m.Fingerprint = hex.EncodeToString(h.Sum(nil))
	m.PolicyYears = d.PolicyYears()
	if len(d.Policies) > 0 {
		first, last := d.Policies[0].StartDate, d.Policies[0].StartDate
		for _, p := range d.Policies {
			first, last = min(first, p.StartDate), max(last, p.StartDate)
		}
		m.FirstStart, m.LastStart = first.String(), last.String()
	}
	if len(d.Accidents) > 0 {
		first, last := d.Accidents[0].Month, d.Accidents[0].Month
		for _, a := range d.Accidents {
			first, last = min(first, a.Month), max(last, a.Month)
		}
		m.AccidentMonths = []string{first.Time().Format("2006-01"), last.Time().Format("2006-01")}
	}
	return m
}

// PolicyYears lists the calendar years in which policies start, ascending.
func (d *Dataset) PolicyYears() []int {
	seen := map[int]bool{}
	for _, p := range d.Policies {
		seen[p.StartDate.Time().Year()] = true
	}
	years := make([]int, 0, len(seen))
	for y := range seen {
		years = append(years, y)
	}
	sort.Ints(years)
	return years
}

// Decode reads the four table objects, checks them against their manifest
// when one is given, and validates the result.
func Decode(objs map[string][]byte, m *Manifest) (*Dataset, error) {
	if m != nil {
		if err := m.Verify(objs); err != nil {
			return nil, err
		}
	}
	// The tables decode on goroutines of their own (the policies take
	// most of the time); the error reported is the first table's in the
	// order of this list, as when they decoded one after another.
	d := &Dataset{}
	var errs [4]error
	var wg sync.WaitGroup
	wg.Go(func() { d.Customers, errs[0] = decode[schema.Customer](objs, CustomersObject) })
	wg.Go(func() { d.Policies, errs[1] = decode[schema.Policy](objs, PoliciesObject) })
	wg.Go(func() { d.Claims, errs[2] = decode[schema.Claim](objs, ClaimsObject) })
	wg.Go(func() { d.Accidents, errs[3] = decode[schema.AccidentMonth](objs, AccidentsObject) })
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return d, nil
}

func decode[T any](objs map[string][]byte, name string) ([]T, error) {
	data, ok := objs[name]
	if !ok {
		return nil, fmt.Errorf("%w: %s is missing", ErrInvalid, name)
	}
	rows, err := parquetio.Decode[T](data)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %s", ErrInvalid, name, strings.TrimPrefix(err.Error(), parquetio.ErrMalformed.Error()+": "))
	}
	return rows, nil
}

// Verify checks that objs are exactly the objects the manifest describes.
func (m Manifest) Verify(objs map[string][]byte) error {
	for _, o := range m.Objects {
		data, ok := objs[o.Name]
		if !ok {
			return fmt.Errorf("%w: %s is listed in the manifest but missing", ErrInvalid, o.Name)
		}
		sum := sha256.Sum256(data)
		if hex.EncodeToString(sum[:]) != o.SHA256 || len(data) != o.Size {
			return fmt.Errorf("%w: %s does not match its manifest (size %d, want %d; or a changed checksum)", ErrInvalid, o.Name, len(data), o.Size)
		}
	}
	return nil
}

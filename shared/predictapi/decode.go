package predictapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/claimrisk/claimrisk/shared/schema"
)

// Error is a refusal of a request, with the HTTP status to answer.
type Error struct {
	Status  int
	Message string
}

func (e *Error) Error() string { return e.Message }

func badRequest(format string, args ...any) *Error {
	return &Error{Status: 400, Message: fmt.Sprintf(format, args...)}
}

func unprocessable(format string, args ...any) *Error {
	return &Error{Status: 422, Message: fmt.Sprintf(format, args...)}
}

// DecodePredict reads a /v1/predict body: {"records": [policy records]}.
// Syntax and type errors are 400; values out of range are 422.
func DecodePredict(body []byte, lim Limits) ([]schema.PolicyRecord, error) {
	if recs, ok := decodeSimple(body, lim); ok {
		return recs, nil
	}
	return decodePredict(body, lim)
}

// decodePredict is DecodePredict field by field, with an error message for
// every way a body can be wrong.
func decodePredict(body []byte, lim Limits) ([]schema.PolicyRecord, error) {
	raws, err := records(body, "records", lim.maxRecords())
	if err != nil {
		return nil, err
	}
	out := make([]schema.PolicyRecord, len(raws))
	for i, raw := range raws {
		r, err := decodeRecord(raw, fmt.Sprintf("records[%d]", i))
		if err != nil {
			return nil, err
		}
		out[i] = r
	}
	return out, nil
}

// records checks the body (checkBody) and the envelope {"<key>": [ ... ]},
// and returns the items.
func records(body []byte, key string, max int) ([]json.RawMessage, error) {
	if err := checkBody(body); err != nil {
		return nil, err
	}
	var env map[string]json.RawMessage
	if err := json.Unmarshal(body, &env); err != nil || env == nil {
		return nil, badRequest("the body is not a JSON object: %s", kindOf(body))
	}
	for k := range env {
		if k != key {
			return nil, badRequest("%s: unknown field; the body has one field, %q", k, key)
		}
	}
	raw, ok := env[key]
	if !ok {
		return nil, badRequest("%s: missing; send {\"%s\": [ ... ]}", key, key)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil || items == nil {
		return nil, badRequest("%s: must be an array of objects", key)
	}
	switch {
	case len(items) == 0:
		return nil, unprocessable("%s: the batch is empty; send 1 to %d", key, max)
	case len(items) > max:
		return nil, &Error{Status: 413, Message: fmt.Sprintf("%s: %d items is more than the limit of %d per request; split the batch", key, len(items), max)}
	}
	return items, nil
}

func jsonProblem(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%v (at byte %d)", se, se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return "found " + te.Value
	}
	return err.Error()
}

var requestColumns = func() map[string]schema.Column {
	m := map[string]schema.Column{}
	for _, c := range schema.Request.Columns {
		m[c.Name] = c
	}
	return m
}()

// decodeRecord reads one policy record, field by field, from the columns
// of schema.Request.
func decodeRecord(raw json.RawMessage, path string) (schema.PolicyRecord, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return schema.PolicyRecord{}, badRequest("%s: must be an object with the fields %s", path, strings.Join(schema.Request.Names(), ", "))
	}
	var unknown []string
	for k := range fields {
		if _, ok := requestColumns[k]; !ok {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return schema.PolicyRecord{}, badRequest("%s.%s: unknown field", path, unknown[0])
	}
	var r schema.PolicyRecord
	for _, c := range schema.Request.Columns {
		v, ok := fields[c.Name]
		if !ok || string(v) == "null" {
			return schema.PolicyRecord{}, badRequest("%s.%s: missing (%s)", path, c.Name, describe(c))
		}
		if err := setField(&r, c, v); err != nil {
			return schema.PolicyRecord{}, badRequest("%s.%s: %v", path, c.Name, err)
		}
	}
	if err := r.Validate(); err != nil {
		return schema.PolicyRecord{}, unprocessable("%s.%s", path, err)
	}
	if err := checkRecordIDs(r, path); err != nil {
		return schema.PolicyRecord{}, err
	}
	return r, nil
}

// checkRecordIDs enforces the identifier rules on a record's ids.
func checkRecordIDs(r schema.PolicyRecord, path string) *Error {
	if err := checkID(path+".policy_id", r.PolicyID); err != nil {
		return err
	}
	return checkID(path+".customer_id", r.CustomerID)
}

func describe(c schema.Column) string {
	switch {
	case len(c.Values) > 0 && c.Kind == schema.KindString:
		return "one of " + strings.Join(c.Values, ", ")
	case len(c.Values) > 0:
		return "a whole number, one of " + strings.Join(c.Values, ", ")
	case c.Kind == schema.KindString:
		return "a string"
	case c.Kind == schema.KindInt:
		return "a whole number"
	}
	if c.Unit != "" {
		return "a number, in " + c.Unit
	}
	return "a number"
}

// fieldPath is where a field lies in schema.PolicyRecord: its own index, or
// its index in the embedded struct at index outer.
type fieldPath struct{ outer, inner int }

func pathOf(index []int) fieldPath {
	switch len(index) {
	case 1:
		return fieldPath{index[0], -1}
	case 2:
		return fieldPath{index[0], index[1]}
	}
	panic(fmt.Sprintf("predictapi: field index %v is nested too deep", index))
}

// of is the field in rv, a schema.PolicyRecord: two Field calls, which on
// a one-record request is measurably cheaper than rv.FieldByIndex.
func (p fieldPath) of(rv reflect.Value) reflect.Value {
	if p.inner < 0 {
		return rv.Field(p.outer)
	}
	return rv.Field(p.outer).Field(p.inner)
}

// fieldIndex maps a column name to its PolicyRecord field, from the json
// tags, so the decoder has no list of fields of its own. The index is a
// path: the fields of the embedded Driver and Cover are promoted.
var fieldIndex = func() map[string]fieldPath {
	m := map[string]fieldPath{}
	for _, f := range reflect.VisibleFields(reflect.TypeFor[schema.PolicyRecord]()) {
		if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "" && !f.Anonymous {
			m[name] = pathOf(f.Index)
		}
	}
	return m
}()

func setField(r *schema.PolicyRecord, c schema.Column, raw json.RawMessage) error {
	f := fieldIndex[c.Name].of(reflect.ValueOf(r).Elem())
	if c.Kind == schema.KindString {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return fmt.Errorf("must be a string, got %s", kindOf(raw))
		}
		f.SetString(s)
		return nil
	}
	v, err := number(raw)
	if err != nil {
		return err
	}
	if f.Kind() == reflect.Int {
		if v != math.Trunc(v) {
			return fmt.Errorf("must be a whole number, got %s", raw)
		}
		if math.Abs(v) > 1e9 {
			return fmt.Errorf("%s is out of range", raw)
		}
		f.SetInt(int64(v))
		return nil
	}
	f.SetFloat(v)
	return nil
}

func number(raw json.RawMessage) (float64, error) {
	var n json.Number
	// json.Number also accepts a quoted number; the API does not.
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] == '"' || json.Unmarshal(raw, &n) != nil {
		return 0, fmt.Errorf("must be a number, got %s", kindOf(raw))
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Errorf("%s is not a finite number", n)
	}
	return f, nil
}

func kindOf(raw json.RawMessage) string {
	s := strings.TrimSpace(string(raw))
	switch {
	case s == "":
		return "nothing"
	case s[0] == '"':
		if len(s) > 40 {
			s = s[:37] + `..."`
		}
		return "the string " + s
	case s[0] == '{':
		return "an object"
	case s[0] == '[':
		return "an array"
	case s == "true" || s == "false":
		return "a boolean"
	}
	return s
}

// decodeSimple is DecodePredict's fast path for the bodies clients send:
// one pass over {"records": [...]} without nested decoders. It accepts only
// what DecodePredict accepts and gives the same records: every record
// complete and valid, each field once, strings of printable ASCII without
// escapes, numbers as JSON number literals. Anything else (an error, a
// duplicate field, an escape, null, an empty or oversized batch) makes it
// give up, and DecodePredict decides, with its own error messages.
func decodeSimple(body []byte, lim Limits) ([]schema.PolicyRecord, bool) {
	max := lim.maxRecords()
	d := scanner{b: body}
	if !d.expect('{') || !d.literalKey("records") || !d.expect(':') || !d.expect('[') {
		return nil, false
	}
	var out []schema.PolicyRecord
	for {
		r, ok := d.record()
		if !ok || len(out) == max || r.Validate() != nil || checkRecordIDs(r, "") != nil {
			return nil, false
		}
		out = append(out, r)
		if d.expect(',') {
			continue
		}
		if !d.expect(']') || !d.expect('}') {
			return nil, false
		}
		d.space()
		return out, d.i == len(d.b)
	}
}

// simpleField is a request column as decodeSimple sets it.
type simpleField struct {
	bit      uint64 // the column's bit in the set of fields seen
	field    fieldPath
	isString bool
	isInt    bool
}

var simpleFields = func() map[string]simpleField {
	m := map[string]simpleField{}
	zero := reflect.ValueOf(schema.PolicyRecord{})
	for i, c := range schema.Request.Columns {
		f := fieldIndex[c.Name]
		m[c.Name] = simpleField{bit: 1 << i, field: f, isString: c.Kind == schema.KindString, isInt: f.of(zero).Kind() == reflect.Int}
	}
	return m
}()

// scanner walks a JSON body; every method reports false for anything but
// the plain form it expects.
type scanner struct {
	b []byte
	i int
}

func (d *scanner) space() {
	for d.i < len(d.b) && (d.b[d.i] == ' ' || d.b[d.i] == '\t' || d.b[d.i] == '\n' || d.b[d.i] == '\r') {
		d.i++
	}
}

// expect consumes c after optional whitespace.
func (d *scanner) expect(c byte) bool {
	d.space()
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// str reads a string of printable ASCII without escapes.
func (d *scanner) str() ([]byte, bool) {
	if !d.expect('"') {
		return nil, false
	}
	start := d.i
	for ; d.i < len(d.b); d.i++ {
		switch c := d.b[d.i]; {
		case c == '"':
			d.i++
			return d.b[start : d.i-1], true
		case c == '\\' || c < 0x20 || c >= 0x7f:
			return nil, false
		}
	}
	return nil, false
}

func (d *scanner) literalKey(k string) bool {
	s, ok := d.str()
	return ok && string(s) == k
}

// number reads a JSON number literal.
func (d *scanner) number() (float64, bool) {
	d.space()
	start := d.i
	digits := func() int {
		n := 0
		for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
			d.i++
			n++
		}
		return n
	}
	if d.i < len(d.b) && d.b[d.i] == '-' {
		d.i++
	}
	if d.i < len(d.b) && d.b[d.i] == '0' {
		d.i++
	} else if digits() == 0 {
		return 0, false
	}
	if d.i < len(d.b) && d.b[d.i] == '.' {
		d.i++
		if digits() == 0 {
			return 0, false
		}
	}
	if d.i < len(d.b) && (d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		d.i++
		if d.i < len(d.b) && (d.b[d.i] == '+' || d.b[d.i] == '-') {
			d.i++
		}
		if digits() == 0 {
			return 0, false
		}
	}
	v, err := strconv.ParseFloat(string(d.b[start:d.i]), 64)
	return v, err == nil && !math.IsInf(v, 0) && !math.IsNaN(v)
}

// record reads one object holding every request column once.
func (d *scanner) record() (schema.PolicyRecord, bool) {
	var r schema.PolicyRecord
	rv := reflect.ValueOf(&r).Elem()
	var seen uint64
	if !d.expect('{') {
		return r, false
	}
	for {
		k, ok := d.str()
		if !ok || !d.expect(':') {
			return r, false
		}
		f, known := simpleFields[string(k)]
		if !known || seen&f.bit != 0 {
			return r, false
		}
		seen |= f.bit
		switch {
		case f.isString:
			v, ok := d.str()
			if !ok {
				return r, false
			}
			f.field.of(rv).SetString(string(v))
		case f.isInt:
			v, ok := d.number()
			if !ok || v != math.Trunc(v) || math.Abs(v) > 1e9 {
				return r, false
			}
			f.field.of(rv).SetInt(int64(v))
		default:
			v, ok := d.number()
			if !ok {
				return r, false
			}
			f.field.of(rv).SetFloat(v)
		}
		if d.expect(',') {
			continue
		}
		return r, d.expect('}') && seen == 1<<len(schema.Request.Columns)-1
	}
}

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

// Limits bound a request.
type Limits struct {
	// MaxRecords is the largest batch (default 1,000).
	MaxRecords int
}

// DecodePredict reads a /v1/predict body: {"records": [policy records]}.
// Syntax and type errors are 400; values out of range are 422.
func DecodePredict(body []byte, lim Limits) ([]schema.PolicyRecord, error) {
	raws, err := records(body, "records", lim.MaxRecords)
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

// records checks the envelope {"<key>": [ ... ]} and returns the items.
func records(body []byte, key string, max int) ([]json.RawMessage, error) {
	if max <= 0 {
		max = 1000
	}
	var env map[string]json.RawMessage
	if err := unmarshalStrict(body, &env); err != nil {
		return nil, badRequest("the body is not a JSON object: %s", jsonProblem(err))
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

// unmarshalStrict decodes one JSON value and refuses trailing data.
func unmarshalStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("unexpected data after the JSON value")
	}
	if _, err := dec.Token(); err == nil {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
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
	return r, nil
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

// fieldIndex maps a column name to its PolicyRecord field, from the json
// tags, so the decoder has no list of fields of its own.
var fieldIndex = func() map[string]int {
	m := map[string]int{}
	t := reflect.TypeFor[schema.PolicyRecord]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		m[name] = i
	}
	return m
}()

func setField(r *schema.PolicyRecord, c schema.Column, raw json.RawMessage) error {
	f := reflect.ValueOf(r).Elem().Field(fieldIndex[c.Name])
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

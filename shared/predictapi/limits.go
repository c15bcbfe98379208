package predictapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// The API's limits, in one place: the decoders enforce them, and the
// OpenAPI document (Document) states them.
const (
	// DefaultMaxRecords is the largest batch when Limits.MaxRecords is 0.
	DefaultMaxRecords = 1000
	// MaxIDLength bounds every identifier: policy_id and customer_id in a
	// record, policy_id and request_id in an outcome (in characters, as
	// JSON Schema's maxLength counts them).
	MaxIDLength = 200
	// MaxDepth bounds how deeply a body may nest arrays and objects; the
	// API's own bodies nest three deep.
	MaxDepth = 16
)

// Limits bound a request.
type Limits struct {
	// MaxRecords is the largest batch (default DefaultMaxRecords).
	MaxRecords int
}

func (l Limits) maxRecords() int {
	if l.MaxRecords <= 0 {
		return DefaultMaxRecords
	}
	return l.MaxRecords
}

// openAPIIDPattern is the pattern of an identifier in the OpenAPI document
// (ECMA 262 syntax): no control characters (C0, DEL, C1) and no U+FFFD,
// which is what a lone surrogate escape or a broken byte decodes to.
const openAPIIDPattern = `^[^\u0000-\u001f\u007f-\u009f\ufffd]*$`

// checkID enforces the identifier rules on a value at path; empty is
// allowed here (a required id's presence is checked by its caller).
func checkID(path, s string) *Error {
	if n := utf8.RuneCountInString(s); n > MaxIDLength {
		return unprocessable("%s: %d characters is more than the limit of %d", path, n, MaxIDLength)
	}
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
			return unprocessable("%s: has U+FFFD (a lone surrogate escape or a broken character), which would make distinct identifiers collide", path)
		case unicode.IsControl(r):
			return unprocessable("%s: has the control character U+%04X; identifiers are printable text", path, r)
		}
	}
	return nil
}

// checkBody checks what encoding/json lets through: the body is one JSON
// value of valid UTF-8, with no key twice in an object, nested at most
// MaxDepth deep, and nothing after it but white space. Its errors are 400
// and name where the problem is.
func checkBody(body []byte) *Error {
	if !utf8.Valid(body) {
		at := 0
		for at < len(body) {
			r, size := utf8.DecodeRune(body[at:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			at += size
		}
		return badRequest("the body is not valid UTF-8 (at byte %d)", at)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	type frame struct {
		object bool
		keys   map[string]bool
		key    string // the current key (object)
		index  int    // the current index (array)
		path   string
	}
	var stack []*frame
	path := func() string {
		if len(stack) == 0 {
			return ""
		}
		f := stack[len(stack)-1]
		if f.object {
			return join(f.path, f.key)
		}
		return f.path + "[" + strconv.Itoa(f.index) + "]"
	}
	// wantKey is whether the next token of the innermost object is a key.
	wantKey := false
	for {
		tok, err := dec.Token()
		if err != nil {
			if errors.Is(err, io.EOF) && len(stack) == 0 {
				return badRequest("the body is empty")
			}
			return badRequest("the body is not a JSON object: %s", jsonProblem(err))
		}
		if wantKey {
			key := tok.(string) // the decoder allows only a string or '}' here
			f := stack[len(stack)-1]
			if f.keys[key] {
				return badRequest("%s: the key appears twice; send each key once", join(f.path, key))
			}
			f.keys[key] = true
			f.key = key
			wantKey = false
			continue
		}
		if d, ok := tok.(json.Delim); ok && (d == '{' || d == '[') {
			if len(stack) == MaxDepth {
				return badRequest("%s: nested more than %d deep", path(), MaxDepth)
			}
			stack = append(stack, &frame{object: d == '{', keys: map[string]bool{}, path: path()})
			wantKey = d == '{' && dec.More()
			continue
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
		}
		// A value ended: a scalar, or a container just closed.
		if len(stack) == 0 {
			break
		}
		f := stack[len(stack)-1]
		if f.object {
			wantKey = dec.More()
		} else {
			f.index++
		}
	}
	if rest := bytes.TrimLeft(body[dec.InputOffset():], " \t\r\n"); len(rest) > 0 {
		return badRequest("unexpected data after the JSON value (at byte %d); send one JSON object", len(body)-len(rest))
	}
	return nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

package predictapi

import (
	"encoding/json"
	"math"
	"strconv"
)

// AppendJSON appends r as encoding/json's Encoder writes it (the same bytes,
// newline included) without reflection: the answer of every prediction
// request is written this way. A value encoding/json would escape or refuse
// (a string with characters outside printable ASCII or HTML's <, > and &, a
// probability that is not finite, a year outside 0-9999) is handed to
// encoding/json, which gives the same answer or error as before.
func (r PredictResponse) AppendJSON(b []byte) ([]byte, error) {
	if !r.plain() {
		data, err := json.Marshal(r)
		if err != nil {
			return b, err
		}
		return append(append(b, data...), '\n'), nil
	}
	b = append(b, `{"request_id":"`...)
	b = append(b, r.RequestID...)
	b = append(b, `","predicted_at":"`...)
	b = r.PredictedAt.AppendFormat(b, rfc3339Nano)
	b = append(b, `","model":{"name":"`...)
	b = append(b, r.Model.Name...)
	b = append(b, `","version":`...)
	b = strconv.AppendInt(b, int64(r.Model.Version), 10)
	b = append(b, `},"predictions":`...)
	if r.Predictions == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, p := range r.Predictions {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"policy_id":"`...)
			b = append(b, p.PolicyID...)
			b = append(b, `","claim_probability":`...)
			b = appendFloat(b, p.ClaimProbability)
			b = append(b, `,"risk_band":"`...)
			b = append(b, p.RiskBand...)
			b = append(b, `"}`...)
		}
		b = append(b, ']')
	}
	return append(b, "}\n"...), nil
}

// rfc3339Nano is time.RFC3339Nano, the layout of time.Time's MarshalJSON.
const rfc3339Nano = "2006-01-02T15:04:05.999999999Z07:00"

// plain reports whether every string is printable ASCII that encoding/json
// writes as is, every number finite and the time within MarshalJSON's years.
func (r PredictResponse) plain() bool {
	if y := r.PredictedAt.Year(); y < 0 || y > 9999 {
		return false
	}
	if !plainString(r.RequestID) || !plainString(r.Model.Name) {
		return false
	}
	for _, p := range r.Predictions {
		if !plainString(p.PolicyID) || !plainString(p.RiskBand) || math.IsNaN(p.ClaimProbability) || math.IsInf(p.ClaimProbability, 0) {
			return false
		}
	}
	return true
}

func plainString(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c > 0x7e, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}

// appendFloat writes a float64 as encoding/json does: the shortest decimal
// that reads back the same, in exponent form below 1e-6 and from 1e21 on,
// with a one-digit exponent not padded (1e-7, not 1e-07).
func appendFloat(b []byte, f float64) []byte {
	format := byte('f')
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

package predictapi

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// encoded is what encoding/json's Encoder writes for v, the answer's
// format before AppendJSON.
func encoded(t *testing.T, v any) ([]byte, error) {
	t.Helper()
	var buf bytes.Buffer
	err := json.NewEncoder(&buf).Encode(v)
	return buf.Bytes(), err
}

func checkSame(t *testing.T, r PredictResponse) {
	t.Helper()
	want, wantErr := encoded(t, r)
	got, err := r.AppendJSON([]byte("prefix:"))
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("%+v: error %v, encoding/json's %v", r, err, wantErr)
	}
	if err != nil {
		return
	}
	if !bytes.HasPrefix(got, []byte("prefix:")) || !bytes.Equal(got[len("prefix:"):], want) {
		t.Fatalf("%+v:\n got %s\nwant %s", r, got, want)
	}
}

func TestAppendJSONWritesWhatEncodingJSONWrites(t *testing.T) {
	at := time.Date(2026, 12, 4, 15, 4, 5, 123_000_000, time.UTC)
	base := func(ps ...Prediction) PredictResponse {
		return PredictResponse{RequestID: "req-0123456789abcdef", PredictedAt: at, Model: ModelRef{Name: "claimrisk", Version: 3}, Predictions: ps}
	}
	floats := []float64{0, 1, 0.5, 0.07123456789012345, 1e-6, 9.99e-7, 1e-7, 1.5e-10, 2.5e-300, 5e-324, 1e20, 1e21, 123456789.125, math.Copysign(0, -1), -3.25e-8, math.NaN(), math.Inf(1)}
	for _, f := range floats {
		checkSame(t, base(Prediction{PolicyID: "P-000001", ClaimProbability: f, RiskBand: "low"}))
	}
	for _, s := range []string{"", "plain", `quote"d`, `back\slash`, "<b>&amp;", "tab\there", "caf\u00e9", "line\u2028sep", "bad\xffutf8", "\x7f", " ~"} {
		checkSame(t, base(Prediction{PolicyID: s, ClaimProbability: 0.1, RiskBand: "high"}))
		r := base()
		r.RequestID = s
		checkSame(t, r)
	}
	for _, tm := range []time.Time{{}, at.In(time.FixedZone("x", -7*3600)), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), at.Truncate(time.Second)} {
		r := base(Prediction{PolicyID: "P", ClaimProbability: 0.2})
		r.PredictedAt = tm
		checkSame(t, r)
	}
	checkSame(t, base())                                        // predictions nil: null
	checkSame(t, base([]Prediction{}...))                       // none: []
	checkSame(t, PredictResponse{Model: ModelRef{Version: -7}}) // zero values

	rng := rand.New(rand.NewPCG(17, 4))
	for range 5000 {
		ps := make([]Prediction, rng.IntN(4))
		for i := range ps {
			ps[i] = Prediction{PolicyID: randomASCII(rng), ClaimProbability: math.Float64frombits(rng.Uint64()), RiskBand: randomASCII(rng)}
			if rng.IntN(2) == 0 {
				ps[i].ClaimProbability = rng.Float64() * math.Pow(10, float64(rng.IntN(40)-30))
			}
		}
		r := base(ps...)
		r.Model.Version = rng.IntN(1 << 20)
		r.PredictedAt = time.Unix(rng.Int64N(1<<35), rng.Int64N(1e9)).UTC()
		checkSame(t, r)
	}
}

func randomASCII(rng *rand.Rand) string {
	b := make([]byte, rng.IntN(12))
	for i := range b {
		b[i] = byte(rng.IntN(128))
	}
	return string(b)
}

func BenchmarkAppendJSON(b *testing.B) {
	r := PredictResponse{RequestID: "req-0123456789abcdef", PredictedAt: time.Now().UTC().Truncate(time.Millisecond), Model: ModelRef{Name: "claimrisk", Version: 3},
		Predictions: []Prediction{{PolicyID: "P-000001", ClaimProbability: 0.07123456789012345, RiskBand: "moderate"}}}
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = r.AppendJSON(buf[:0])
	}
}

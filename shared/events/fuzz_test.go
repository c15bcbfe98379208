package events

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cloudevents/sdk-go/v2/binding"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
)

// The fuzz targets below feed arbitrary bytes to the code every function
// runs on an incoming event: the SDK's binary-mode decoding of the HTTP
// request, the signature check and Decode into each payload type. None may
// panic; a payload Decode accepts must encode again (scripts/fuzz.sh runs
// them for a fixed time; `go test` runs the seeds).

// payloads are the data types the functions decode, by event type.
var payloads = map[string]func() any{
	DatasetUploaded: func() any { return new(DatasetUploadedData) },
	ModelTrained:    func() any { return new(ModelTrainedData) },
	ModelPromoted:   func() any { return new(Decision) },
	ModelRejected:   func() any { return new(Decision) },
	DriftDetected:   func() any { return new(DriftDetectedData) },
	Ping:            func() any { return new(map[string]string) },
}

// seedsFor adds the catalogue's example of typ, and broken forms of it.
func seedsFor(f *testing.F, typ string) {
	for _, c := range Catalogue {
		if c.Type != typ {
			continue
		}
		data, err := json.Marshal(c.Example)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, "application/json")
		f.Add(data[:len(data)/2], "application/json")
		f.Add(data, "text/plain")
		f.Add(bytes.ReplaceAll(data, []byte(`"`), []byte(`'`)), "")
	}
	f.Add([]byte(`null`), "application/json")
	f.Add([]byte(`[1,2]`), "application/json")
	f.Add([]byte(`{"version":1e999}`), "application/json")
	f.Add([]byte(`{"objects":[{"size":-1}],"candidates":{}}`), "text/json")
	f.Add([]byte{}, "application/json")
}

// fuzzDecode checks Decode of typ's payload on arbitrary data.
func fuzzDecode(f *testing.F, typ string) {
	seedsFor(f, typ)
	signer := NewSigner("a-key-for-the-fuzz-tests")
	f.Fuzz(func(t *testing.T, data []byte, contentType string) {
		e, err := New("fuzz-1", typ, "/fuzz", "", map[string]string{})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.SetData(contentType, data); err != nil {
			return // the SDK refuses the content type itself
		}
		_ = signer.Verify(e) // unsigned: an error, never a panic
		signer.Sign(&e)
		if err := signer.Verify(e); err != nil {
			t.Fatalf("a freshly signed event failed verification: %v", err)
		}
		v := payloads[typ]()
		if err := Decode(e, v); err != nil {
			if !strings.HasPrefix(err.Error(), "events: ") {
				t.Fatalf("Decode error %q does not say where it comes from", err)
			}
			return
		}
		if _, err := json.Marshal(v); err != nil {
			t.Fatalf("accepted payload %q cannot be encoded again: %v", data, err)
		}
	})
}

func FuzzDecodeDatasetUploaded(f *testing.F) { fuzzDecode(f, DatasetUploaded) }
func FuzzDecodeModelTrained(f *testing.F)    { fuzzDecode(f, ModelTrained) }
func FuzzDecodeDecision(f *testing.F)        { fuzzDecode(f, ModelPromoted) }
func FuzzDecodeDriftDetected(f *testing.F)   { fuzzDecode(f, DriftDetected) }

// FuzzReceive decodes a binary-mode CloudEvents HTTP request, as the SDK
// under func-go and the predict function's /v1/events do, then verifies and
// decodes it as its type says.
func FuzzReceive(f *testing.F) {
	for _, c := range Catalogue {
		data, _ := json.Marshal(c.Example)
		f.Add("1.0", "id-1", c.Type, c.Source, "application/json", "", data)
		f.Add("1.0", "id-1", c.Type, c.Source, "application/json", "deadbeef", data[:len(data)/3])
	}
	f.Add("0.3", "", "", "", "", "", []byte("{}"))
	f.Add("1.0", "id", "x", "::", "application/cloudevents+json", "", []byte(`{"specversion":"1.0"}`))
	f.Add("2.0", "id", ModelTrained, "/s", "application/json; charset=utf-8", "zz", []byte(`{"run_id":"run-1"}`))
	signer := NewSigner("a-key-for-the-fuzz-tests")
	f.Fuzz(func(t *testing.T, spec, id, typ, source, contentType, sig string, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		for h, v := range map[string]string{"Ce-Specversion": spec, "Ce-Id": id, "Ce-Type": typ, "Ce-Source": source,
			"Content-Type": contentType, "Ce-" + SignatureExtension: sig} {
			if v != "" && validHeader(v) {
				req.Header.Set(h, v)
			}
		}
		e, err := binding.ToEvent(context.Background(), cehttp.NewMessageFromHttpRequest(req))
		if err != nil {
			return
		}
		if err := signer.Verify(*e); err != nil && !errors.Is(err, ErrUnsigned) {
			t.Fatalf("Verify = %v, want nil or ErrUnsigned", err)
		}
		if mk, ok := payloads[e.Type()]; ok {
			_ = Decode(*e, mk())
		}
	})
}

// validHeader reports whether net/http would send v as a header value.
func validHeader(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

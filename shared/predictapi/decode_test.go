package predictapi

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

const valid = `{"policy_id":"P1","customer_id":"C1","age":40,"years_licensed":20,"home_area":18,"vehicle_type":"sedan","vehicle_age":5,"usage":"commute","annual_mileage":12000,"coverage":"standard","deductible":500}`

func TestDecodePredict(t *testing.T) {
	t.Parallel()
	recs, err := DecodePredict([]byte(`{"records":[`+valid+`,`+valid+`]}`), Limits{})
	if err != nil || len(recs) != 2 || recs[1].HomeArea != 18 || recs[0].AnnualMileage != 12000 {
		t.Fatalf("DecodePredict = %+v, %v", recs, err)
	}
	tests := []struct {
		name, body string
		status     int
		msg        string
	}{
		{"duplicate top-level field", `{"records":[` + valid + `],"extra":1}`, 400, "extra: unknown field"},
		{"integer as string", strings.Replace(`{"records":[`+valid+`]}`, `"deductible":500`, `"deductible":"500"`, 1), 400, "deductible: must be a number"},
		{"boolean age", strings.Replace(`{"records":[`+valid+`]}`, `"age":40`, `"age":true`, 1), 400, "age: must be a number, got a boolean"},
		{"record is a string", `{"records":["x"]}`, 400, "records[0]: must be an object"},
		{"deeply wrong", `{"records":[[[[]]]]}`, 400, "records[0]: must be an object"},
		// What encoding/json lets through and the contract forbids (issue 14).
		{"records twice", `{"records":[],"records":[` + valid + `]}`, 400, "records: the key appears twice"},
		{"a feature twice", `{"records":[{"age":99,` + valid[1:] + `]}`, 400, "records[0].age: the key appears twice"},
		{"a feature twice, once escaped", `{"records":[{"ag\u0065":99,` + valid[1:] + `]}`, 400, "records[0].age: the key appears twice"},
		{"a key twice in the second record", `{"records":[` + valid + `,{"usage":"x",` + valid[1:] + `]}`, 400, "records[1].usage: the key appears twice"},
		{"trailing }", `{"records":[` + valid + `]}}`, 400, "unexpected data after the JSON value (at byte"},
		{"trailing ]", `{"records":[` + valid + `]}]`, 400, "unexpected data after the JSON value"},
		{"trailing value", `{"records":[` + valid + `]} {}`, 400, "unexpected data after the JSON value"},
		{"policy_id over 200", strings.Replace(`{"records":[`+valid+`]}`, `"P1"`, `"`+strings.Repeat("P", 201)+`"`, 1), 422, "records[0].policy_id: 201 characters is more than the limit of 200"},
		{"customer_id over 200", strings.Replace(`{"records":[`+valid+`]}`, `"C1"`, `"`+strings.Repeat("C", 201)+`"`, 1), 422, "records[0].customer_id: 201 characters"},
		{"NUL in policy_id", strings.Replace(`{"records":[`+valid+`]}`, `"P1"`, `"P\u0000"`, 1), 422, "records[0].policy_id: has the control character U+0000"},
		{"DEL in customer_id", strings.Replace(`{"records":[`+valid+`]}`, `"C1"`, `"C\u007f"`, 1), 422, "U+007F"},
		{"C1 control", strings.Replace(`{"records":[`+valid+`]}`, `"C1"`, `"C\u0085"`, 1), 422, "U+0085"},
		{"invalid UTF-8", strings.Replace(`{"records":[`+valid+`]}`, `"P1"`, "\"P\xc3\x28\"", 1), 400, "not valid UTF-8 (at byte 27)"},
		{"lone surrogate", strings.Replace(`{"records":[`+valid+`]}`, `"P1"`, `"P\udc00"`, 1), 422, "U+FFFD"},
		{"nested 17 deep", `{"records":` + strings.Repeat("[", 16) + strings.Repeat("]", 16) + `}`, 400, "nested more than 16 deep"},
		{"empty body", ``, 400, "the body is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodePredict([]byte(tt.body), Limits{})
			var ae *Error
			if !errors.As(err, &ae) || ae.Status != tt.status || !strings.Contains(ae.Message, tt.msg) {
				t.Fatalf("DecodePredict = %v; want %d containing %q", err, tt.status, tt.msg)
			}
		})
	}
}

func TestDecodeFeedback(t *testing.T) {
	t.Parallel()
	out, err := DecodeFeedback([]byte(`{"outcomes":[{"policy_id":"`+strings.Repeat("é", MaxIDLength)+`","claim":true},{"request_id":"req-1","claim":false}]}`), Limits{})
	if err != nil || len(out) != 2 || *out[0].Claim != true || out[1].RequestID != "req-1" {
		t.Fatalf("DecodeFeedback = %+v, %v", out, err)
	}
	for _, tt := range []struct {
		name, body string
		status     int
		msg        string
	}{
		{"claim twice", `{"outcomes":[{"policy_id":"P1","claim":true,"claim":false}]}`, 400, "outcomes[0].claim: the key appears twice"},
		{"outcomes twice", `{"outcomes":[{"policy_id":"P1","claim":true}],"outcomes":[{"policy_id":"P2","claim":true}]}`, 400, "outcomes: the key appears twice"},
		{"trailing ]", `{"outcomes":[{"policy_id":"P1","claim":true}]}]`, 400, "unexpected data after the JSON value"},
		{"NUL in policy_id", `{"outcomes":[{"policy_id":"P\u0000","claim":true}]}`, 422, "outcomes[0].policy_id: has the control character U+0000"},
		{"ESC in request_id", `{"outcomes":[{"request_id":"r\u001b","claim":true}]}`, 422, "outcomes[0].request_id: has the control character U+001B"},
		{"policy_id over 200", `{"outcomes":[{"policy_id":"` + strings.Repeat("é", MaxIDLength+1) + `","claim":true}]}`, 422, "outcomes[0].policy_id: 201 characters"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeFeedback([]byte(tt.body), Limits{})
			var ae *Error
			if !errors.As(err, &ae) || ae.Status != tt.status || !strings.Contains(ae.Message, tt.msg) {
				t.Fatalf("DecodeFeedback = %v; want %d containing %q", err, tt.status, tt.msg)
			}
		})
	}
}

// The document states the limits the decoders enforce.
func TestOpenAPIDocumentStatesTheLimits(t *testing.T) {
	t.Parallel()
	schemas := Document(1000, false).Components.Schemas
	for _, where := range []struct{ schema, field string }{
		{"PolicyRecord", "policy_id"}, {"PolicyRecord", "customer_id"}, {"Outcome", "policy_id"}, {"Outcome", "request_id"},
	} {
		f := schemas[where.schema].Properties[where.field]
		if f.MaxLength == nil || *f.MaxLength != MaxIDLength || f.Pattern != openAPIIDPattern {
			t.Errorf("%s.%s = %+v; want maxLength %d and the identifier pattern", where.schema, where.field, f, MaxIDLength)
		}
	}
	if got := schemas["PredictRequest"].Properties["records"].MaxItems; got == nil || *got != 1000 {
		t.Errorf("records maxItems = %v; want 1000", got)
	}
}

func TestOpenAPIDocumentDescribesEveryColumn(t *testing.T) {
	t.Parallel()
	data, err := json.Marshal(Document(1000, false))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI    string `json:"openapi"`
		Components struct {
			Schemas map[string]struct {
				Required   []string                  `json:"required"`
				Properties map[string]map[string]any `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	json.Unmarshal(data, &doc)
	rec := doc.Components.Schemas["PolicyRecord"]
	if doc.OpenAPI != "3.0.3" || len(rec.Required) != 11 {
		t.Fatalf("openapi %s, %d required fields", doc.OpenAPI, len(rec.Required))
	}
	mileage := rec.Properties["annual_mileage"]
	if mileage["maximum"] != 100000.0 || !strings.Contains(mileage["description"].(string), "miles per year") {
		t.Errorf("annual_mileage schema = %v; want its unit and range", mileage)
	}
	if enum, _ := rec.Properties["deductible"]["enum"].([]any); len(enum) != 4 {
		t.Errorf("deductible enum = %v", rec.Properties["deductible"]["enum"])
	}
}

// The decoder never panics, and every refusal is a 4xx.
func FuzzDecodePredict(f *testing.F) {
	f.Add([]byte(`{"records":[` + valid + `]}`))
	f.Add([]byte(`{"records":[]}`))
	f.Add([]byte(`{"records":[{"age":1e999}]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		recs, err := DecodePredict(body, Limits{MaxRecords: 10})
		if err != nil {
			var ae *Error
			if !errors.As(err, &ae) || ae.Status < 400 || ae.Status > 499 || ae.Message == "" {
				t.Fatalf("refusal %v is not a 4xx with a message", err)
			}
			return
		}
		for _, r := range recs {
			if err := r.Validate(); err != nil {
				t.Fatalf("accepted an invalid record: %v", err)
			}
		}
	})
}

func FuzzDecodeFeedback(f *testing.F) {
	f.Add([]byte(`{"outcomes":[{"policy_id":"P1","claim":true}]}`))
	f.Add([]byte(`{"outcomes":[{"claim":null}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		out, err := DecodeFeedback(body, Limits{MaxRecords: 10})
		if err != nil {
			var ae *Error
			if !errors.As(err, &ae) || ae.Status < 400 || ae.Status > 499 {
				t.Fatalf("refusal %v is not a 4xx", err)
			}
			return
		}
		for _, o := range out {
			if o.Claim == nil || (o.PolicyID == "" && o.RequestID == "") {
				t.Fatalf("accepted an incomplete outcome %+v", o)
			}
		}
	})
}

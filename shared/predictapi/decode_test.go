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

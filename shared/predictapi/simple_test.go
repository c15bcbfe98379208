package predictapi

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// decodeSimple must accept only bodies decodePredict accepts, with the same
// records; DecodePredict must answer as decodePredict does.
func checkSimple(t *testing.T, body string) {
	t.Helper()
	slow, slowErr := decodePredict([]byte(body), Limits{MaxRecords: 3})
	if fast, ok := decodeSimple([]byte(body), Limits{MaxRecords: 3}); ok {
		if slowErr != nil {
			t.Fatalf("the fast path accepted %q, which DecodePredict refuses: %v", body, slowErr)
		}
		if d := cmp.Diff(slow, fast); d != "" {
			t.Fatalf("the fast path decoded %q differently (-slow +fast):\n%s", body, d)
		}
	}
	// The slow path names one of several unknown fields at random, so only
	// the outcome is compared.
	got, err := DecodePredict([]byte(body), Limits{MaxRecords: 3})
	var ae, slowAE *Error
	if d := cmp.Diff(slow, got); d != "" || (err == nil) != (slowErr == nil) || (err != nil && (!errors.As(err, &ae) || !errors.As(slowErr, &slowAE) || ae.Status != slowAE.Status)) {
		t.Fatalf("DecodePredict(%q) = %v, %v; want %v, %v", body, got, err, slow, slowErr)
	}
}

var simpleBodies = []string{
	`{"records":[` + valid + `]}`,
	"\n {\t\"records\" : [ " + strings.ReplaceAll(valid, ",", " ,\r\n ") + " ] } \n",
	`{"records":[` + valid + `,` + valid + `,` + valid + `]}`,
	`{"records":[` + valid + `,` + valid + `,` + valid + `,` + valid + `]}`,
	`{"records":[]}`,
	`{"records":[` + valid + `],"records":[` + valid + `]}`,
	`{"records":[` + valid + `]} x`,
	`{"records":[` + valid + `]}{}`,
	`{"records":[` + valid + `],}`,
	`{"records":[` + valid + `,]}`,
	`{"records":null}`,
	`{"Records":[` + valid + `]}`,
	`{"rec\u006frds":[` + valid + `]}`,
	`[` + valid + `]`,
	``,
	`{"records":[` + strings.Replace(valid, `"age":40`, `"age":40,"age":41`, 1) + `]}`,
	`{"records":[` + strings.Replace(valid, `"age":40`, `"Age":40`, 1) + `]}`,
	`{"records":[` + strings.Replace(valid, `"age":40,`, ``, 1) + `]}`,
	`{"records":[` + strings.Replace(valid, `"age":40`, `"age":null`, 1) + `]}`,
	`{"records":[` + strings.Replace(valid, `"age":40`, `"age":"40"`, 1) + `]}`,
	`{"records":[` + strings.Replace(valid, `"age":40`, `"age":4e1`, 1) + `]}`,
	`{"records":[` + strings.Replace(valid, `"age":40`, `"age":40.000`, 1) + `]}`,
	`{"records":[` + strings.Replace(valid, `"age":40`, `"age":-0`, 1) + `]}`,
	`{"records":[` + strings.Replace(valid, `"age":40`, `"age":040`, 1) + `]}`,
	`{"records":[` + strings.Replace(valid, `"age":40`, `"age":40.`, 1) + `]}`,
	`{"records":[` + strings.Replace(valid, `"age":40`, `"age":1e999`, 1) + `]}`,
	`{"records":[` + strings.Replace(valid, `"age":40`, `"age":+40`, 1) + `]}`,
	`{"records":[` + strings.Replace(valid, `"age":40`, `"age":200`, 1) + `]}`,
	`{"records":[` + strings.Replace(valid, `"home_area":18`, `"home_area":18.0`, 1) + `]}`,
	`{"records":[` + strings.Replace(valid, `"home_area":18`, `"home_area":1.8e1`, 1) + `]}`,
	`{"records":[` + strings.Replace(valid, `"home_area":18`, `"home_area":18.5`, 1) + `]}`,
	`{"records":[` + strings.Replace(valid, `"home_area":18`, `"home_area":12345678901`, 1) + `]}`,
	`{"records":[` + strings.Replace(valid, `"home_area":18`, `"home_area":99`, 1) + `]}`,
	`{"records":[` + strings.Replace(valid, `"P1"`, `"P\u0031"`, 1) + `]}`,
	`{"records":[` + strings.Replace(valid, `"P1"`, `"Pé"`, 1) + `]}`,
	`{"records":[` + strings.Replace(valid, `"P1"`, `""`, 1) + `]}`,
	`{"records":[` + strings.Replace(valid, `"P1"`, `"P\t1"`, 1) + `]}`,
	`{"records":[` + strings.Replace(valid, `"sedan"`, `"Sedan"`, 1) + `]}`,
	`{"records":[` + strings.Replace(valid, `"sedan"`, `5`, 1) + `]}`,
	`{"records":[` + strings.Replace(valid, `}`, `,"extra":1}`, 1) + `]}`,
	`{"records":[` + strings.Replace(valid, `"years_licensed":20`, `"years_licensed":30`, 1) + `]}`,
	`{"records":[` + valid + `, "x"]}`,
	`{"records":[{}]}`,
	`{"records":[` + valid,
}

func TestDecodeSimpleAgreesWithDecodePredict(t *testing.T) {
	t.Parallel()
	for _, body := range simpleBodies {
		checkSimple(t, body)
	}
}

func FuzzDecodeSimple(f *testing.F) {
	for _, body := range simpleBodies {
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body string) { checkSimple(t, body) })
}

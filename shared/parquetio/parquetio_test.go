package parquetio

import (
	"errors"
	"strings"
	"testing"
)

type row struct {
	Name  string  `parquet:"name"`
	Value float64 `parquet:"value"`
	Count int32   `parquet:"count"`
}

type wrongType struct {
	Name  string `parquet:"name"`
	Value string `parquet:"value"`
	Count int32  `parquet:"count"`
}

type missing struct {
	Name string `parquet:"name"`
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	in := []row{{"a", 1.5, 2}, {"b", -3, 0}}
	data, err := Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Decode[row](data)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || out[0] != in[0] || out[1] != in[1] {
		t.Fatalf("Decode = %+v, want %+v", out, in)
	}
}

func TestDecodeChecksColumns(t *testing.T) {
	t.Parallel()
	wrong, _ := Encode([]wrongType{{"a", "x", 1}})
	short, _ := Encode([]missing{{"a"}})
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"wrong type", wrong, "column value is string, want number (DOUBLE)"},
		{"missing column", short, "column value is missing"},
		{"not parquet", []byte("name,value\na,1\n"), "malformed file"},
		{"truncated", wrong[:len(wrong)/2], "malformed file"},
		{"empty", nil, "malformed file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode[row](tt.data)
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Decode = %v, want ErrMalformed containing %q", err, tt.want)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	good, _ := Encode([]row{{"a", 1, 2}})
	f.Add(good)
	f.Add([]byte("PAR1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = Decode[row](data) // must never panic
	})
}

package logging

import "testing"

func TestRedact(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"http://alice:s3cret@mlflow:5000/": "http://%2A%2A%2A@mlflow:5000/",
		"http://127.0.0.1:5050":            "http://127.0.0.1:5050",
		"s3://bucket/prefix":               "s3://bucket/prefix",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// Command cacerts writes the CA bundle of the function images: the root
// certificates of Mozilla's NSS trust store as carried by the Go module
// golang.org/x/crypto/x509roots/fallback/bundle, as PEM, in the module's
// order. The bundle is pinned by go.sum like every other input of an image,
// so an image built on any machine holds the same certificates, whatever
// the host's own trust store says.
//
// Roots that NSS trusts only with a distrust-after date are left out: PEM
// cannot carry that constraint, and leaving them out is the safe side.
//
// Usage:
//
//	go run ./containers/cacerts -o bin/images/ca-certificates.crt
package main

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"flag"
	"fmt"
	"os"

	"golang.org/x/crypto/x509roots/fallback/bundle"
)

func main() {
	out := flag.String("o", "", "file to write (required)")
	flag.Parse()
	if *out == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: cacerts -o FILE")
		os.Exit(2)
	}
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "cacerts:", err)
		os.Exit(1)
	}
}

func run(path string) error {
	var buf bytes.Buffer
	n := 0
	for root := range bundle.Roots() {
		if root.Constraint != nil {
			continue
		}
		cert, err := x509.ParseCertificate(root.Certificate)
		if err != nil {
			return fmt.Errorf("parse root %d: %w", n, err)
		}
		fmt.Fprintf(&buf, "# %s\n", cert.Subject)
		if err := pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: root.Certificate}); err != nil {
			return fmt.Errorf("encode %s: %w", cert.Subject, err)
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("the bundle has no unconstrained roots")
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

// Package schema is the single source of column truth for claimrisk.
//
// It declares the four input tables (customers, policies, claims and
// Chicago-area accident statistics), the policy record that the prediction
// API accepts, and for every column its type, unit, allowed range or values
// and meaning. Generation, validation, training, serving, the OpenAPI
// document and the drift checks all read these declarations, so a column is
// changed in one place.
//
// tables.go declares each table beside the Go type of its rows; records.go
// holds the policy record, in two embedded parts (its Driver and its
// Cover) that add no level to its JSON or Parquet columns.
package schema

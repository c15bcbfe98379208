// Package schema is the single source of column truth for claimrisk.
//
// It declares the four input tables (customers, policies, claims and
// Chicago-area accident statistics), the policy record that the prediction
// API accepts, and for every column its type, unit, allowed range or values
// and meaning. Generation, validation, training, serving, the OpenAPI
// document and the drift checks all read these declarations, so a column is
// changed in one place.
package schema

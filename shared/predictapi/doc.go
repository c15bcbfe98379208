// Package predictapi is the contract of the prediction API: the request and
// response bodies, the strict decoder that turns a request into validated
// policy records (or a 4xx message that names the field and the problem),
// and the OpenAPI document, generated from the schema package so that the
// columns, units and ranges are declared once. It knows nothing of HTTP
// servers or models.
package predictapi

// Package governance answers to regulators and customers: metrics per
// slice of the portfolio (age band, area accident level, vehicle usage),
// fairness between the groups of a protected attribute that is never a
// model feature (mean predicted probability, disparate impact, and where
// outcomes exist calibration and error rates per group), exact
// per-prediction explanations of a GLM, and the factsheet of each model
// version in Markdown and HTML.
package governance

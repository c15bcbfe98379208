// Package legacy holds the insurer's legacy risk-factor formula: a
// multiplicative tariff on age band, driving experience, use and mileage
// band, written long before the insurer collected accident data. Every model
// is compared with it.
package legacy

// Package synth generates the insurer's data from a seeded world with a
// hidden ground truth.
//
// The world has the Chicago police districts, each with a number of
// registered vehicles and a crash rate that drifts by year and season. A
// policy's true claim probability depends on the driver, the vehicle, the
// cover and, strongly, on the crash rate where the customer lives. The
// legacy formula sees none of the area, so a model that joins the accident
// data beats it clearly and a model without it sits in between.
//
// The same world later produces drifting traffic for the drift scenarios:
// a Shift changes who buys policies, how they are reported and how often
// they crash. Everything is reproducible from the seed (math/rand/v2 PCG).
package synth

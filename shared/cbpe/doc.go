// Package cbpe estimates a binary classifier's performance on data without
// labels, by confidence-based performance estimation (CBPE, as NannyML
// does it): where the model's probabilities are calibrated, each prediction
// p is the chance of a claim, so the expected confusion matrix at every
// cut-off, and from it the ROC AUC, the claim rate and the calibration,
// follow from the predictions alone.
//
// Fit learns two things from labelled reference rows: an isotonic
// calibration map from the model's probability to the observed claim rate
// (so that a model that is not perfectly calibrated is corrected the way it
// was miscalibrated on the reference), and the spread of the AUC's
// Mann-Whitney components, which gives the sampling error of an AUC on n
// rows. Estimate then needs only a window's predicted probabilities.
//
// The estimate is right under two assumptions: the calibration learnt on the
// reference still holds (P(claim | probability) has not changed), and only
// the inputs' distribution moved (covariate shift). Concept drift breaks the
// first: when accidents rise everywhere, the same probability means more
// claims, and the estimate, which cannot see that, stays where it was.
package cbpe

// Package metrics scores probability models of a binary outcome the way an
// insurer's pricing team does: ranking (ROC AUC and the Gini coefficient),
// probability quality (log loss and Brier score) and calibration by decile,
// with the ROC and Lorenz curves behind the plots. ROC and AUC come from
// gonum (stat.ROC and integrate.Trapezoidal).
package metrics

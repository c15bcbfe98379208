// Package metrics scores probability models of a binary outcome the way an
// insurer's pricing team does: ranking (ROC AUC and the Gini coefficient),
// probability quality (log loss and Brier score) and calibration by decile,
// with the ROC and Lorenz curves behind the plots. The ROC curve and its
// area are computed here from one sort of the scores, and checked against
// gonum's stat.ROC and integrate.Trapezoidal in the tests: every function
// that serves predictions imports this package (for its types), and
// gonum's linear algebra would add 2 MB to the predict function's image.
package metrics

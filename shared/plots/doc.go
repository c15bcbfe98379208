// Package plots renders the evaluation charts of a training run as PNG
// images with gonum/plot: the calibration curve by decile, the ROC curve and
// the Lorenz (concentration) curve. They are stored with the run and logged
// to MLflow as artifacts.
package plots

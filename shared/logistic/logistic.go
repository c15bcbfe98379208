package logistic

import "math"

// Fit is a fitted logistic regression on standardised features.
type Fit struct {
	Intercept  float64   `json:"intercept"`
	Coef       []float64 `json:"coef"`
	Iterations int       `json:"iterations"`
	// Objective is the penalised negative log-likelihood at the optimum.
	Objective float64 `json:"objective"`
	// GradNorm is the infinity norm of the mean gradient at the optimum.
	GradNorm float64 `json:"grad_norm"`
}

// Sigmoid is the logistic function.
func Sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// Predict is the probability for one standardised feature row.
func (f *Fit) Predict(row []float64) float64 {
	z := f.Intercept
	for j, v := range row {
		z += f.Coef[j] * v
	}
	return Sigmoid(z)
}

// Package glm fits generalised linear models for claim probabilities:
// logistic regression (binomial family, logit link) by penalised maximum
// likelihood. gonum has no GLM, so the package supplies the exact negative
// log-likelihood, its gradient and its Hessian to gonum's optimize.Newton.
//
// The objective is the sum over rows of the logistic loss plus L2/2 times
// the squared norm of the coefficients; the intercept is not penalised.
// That is scikit-learn's LogisticRegression objective with C = 1/L2.
// The package does no I/O.
package glm

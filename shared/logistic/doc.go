// Package logistic is the logistic function and a fitted logistic
// regression's coefficients: what serving a GLM needs, apart from fitting
// it (shared/glm, which uses gonum's linear algebra). The predict function
// imports this and not glm, so that its image carries no BLAS or LAPACK.
package logistic

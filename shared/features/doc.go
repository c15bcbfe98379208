// Package features turns policies into the design matrices the GLMs fit.
//
// It joins the tables (a policy with its customer, its claims for the label
// and the accident statistics of the customer's area in the twelve months
// before the policy starts), and describes each feature set in a Spec that
// is saved with the model. The Spec also carries the area accident rates
// known at training time, so the prediction API computes the same features
// from a policy record alone.
package features

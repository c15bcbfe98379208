// Package model is the stored form of a fitted claim model and the code
// that scores policy records with it. Training writes it, the registry
// versions it, the prediction API and batch scoring load it. Decode refuses
// an object that is not exactly a model this version can score.
package model

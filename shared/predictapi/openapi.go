package predictapi

import (
	"strconv"

	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/schema"
)

type obj = map[string]any

// columnSchema is the JSON Schema of one column, with its unit and range.
func columnSchema(c schema.Column) obj {
	s := obj{"description": c.Description}
	if c.Unit != "" {
		s["description"] = c.Description + " Unit: " + c.Unit + "."
	}
	switch c.Kind {
	case schema.KindString:
		s["type"] = "string"
		if len(c.Values) > 0 {
			s["enum"] = c.Values
		} else {
			s["minLength"] = 1
			s["maxLength"] = MaxIDLength
			s["pattern"] = openAPIIDPattern
		}
	case schema.KindInt:
		s["type"] = "integer"
		if len(c.Values) > 0 {
			ints := make([]int, len(c.Values))
			for i, v := range c.Values {
				ints[i], _ = strconv.Atoi(v)
			}
			s["enum"] = ints
		}
	case schema.KindFloat:
		s["type"] = "number"
	}
	if c.Min != nil {
		s["minimum"] = *c.Min
	}
	if c.Max != nil {
		s["maximum"] = *c.Max
	}
	return s
}

func ref(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }

func jsonBody(schemaName, description string) obj {
	return obj{"description": description, "content": obj{"application/json": obj{"schema": ref(schemaName)}}}
}

// Document is the OpenAPI 3.0 document of the prediction API.
func Document(maxRecords int, bearer bool) map[string]any {
	props := obj{}
	for _, c := range schema.Request.Columns {
		props[c.Name] = columnSchema(c)
	}
	bands := make([]string, len(model.Bands))
	for i, b := range model.Bands {
		bands[i] = b.Name
	}
	errorsFor := func(codes ...int) obj {
		out := obj{}
		text := map[int]string{
			400: "The body is not one JSON object of valid UTF-8 (data after it, a key twice, nesting over " + strconv.Itoa(MaxDepth) + " deep, a gzip body that is not gzip), or a field is missing, unknown or of the wrong type; the message names it.",
			401: "No bearer token, or the wrong one.",
			413: "The body (after gzip decompression) or the batch is larger than the limit.",
			415: "The content type is not application/json, or the Content-Encoding is neither identity nor gzip.",
			422: "A value is out of range, an identifier is longer than " + strconv.Itoa(MaxIDLength) + " characters or has a control character, the batch is empty, or the record is inconsistent; the message names the field.",
			503: "No model is loaded yet, or the payload log cannot keep up.",
		}
		for _, c := range codes {
			out[strconv.Itoa(c)] = jsonBody("Error", text[c])
		}
		return out
	}
	withOK := func(ok obj, codes ...int) obj {
		r := errorsFor(codes...)
		r["200"] = ok
		return r
	}
	doc := obj{
		"openapi": "3.0.3",
		"info": obj{
			"title":       "claimrisk prediction API",
			"version":     "1.0.0",
			"description": "The probability that a policy has at least one claim in its policy year, from the champion of the claim-risk model. Every answered prediction is logged (identifiers pseudonymised) for monitoring. Request bodies are JSON (Content-Type application/json), sent as is or gzip-compressed (Content-Encoding: gzip); the size limit applies to the body before and after decompression.",
		},
		"paths": obj{
			"/v1/predict": obj{"post": obj{
				"summary":     "Claim probabilities for a batch of policies",
				"operationId": "predict",
				"requestBody": obj{"required": true, "content": obj{"application/json": obj{"schema": ref("PredictRequest")}}},
				"responses":   withOK(jsonBody("PredictResponse", "One prediction per record, in order."), 400, 401, 413, 415, 422, 503),
			}},
			"/v1/explain": obj{"post": obj{
				"summary":     "Why each policy got its probability: exact contributions of the GLM's features",
				"operationId": "explain",
				"requestBody": obj{"required": true, "content": obj{"application/json": obj{"schema": ref("PredictRequest")}}},
				"responses":   withOK(jsonBody("ExplainResponse", "One explanation per record, in order."), 400, 401, 413, 415, 422, 503),
			}},
			"/v1/model/card": obj{"get": obj{
				"summary":     "The champion's factsheet (Markdown, or HTML when asked for text/html)",
				"operationId": "card",
				"responses": withOK(obj{"description": "The factsheet.", "content": obj{
					"text/markdown": obj{"schema": obj{"type": "string"}}, "text/html": obj{"schema": obj{"type": "string"}}}}, 401, 503),
			}},
			"/v1/model": obj{"get": obj{
				"summary":     "The model that answers",
				"operationId": "model",
				"responses":   withOK(jsonBody("ModelInfo", "The loaded champion."), 401, 503),
			}},
			"/v1/admin/flush": obj{"post": obj{
				"summary":     "Write the buffered payload-log and feedback rows now",
				"operationId": "flush",
				"responses": withOK(obj{"description": "The rows were written.", "content": obj{"application/json": obj{"schema": obj{
					"type": "object", "properties": obj{"written_rows": obj{"type": "integer", "minimum": 0}}}}}}, 401, 503),
			}},
			"/v1/feedback": obj{"post": obj{
				"summary":     "Observed outcomes of earlier predictions",
				"operationId": "feedback",
				"requestBody": obj{"required": true, "content": obj{"application/json": obj{"schema": ref("FeedbackRequest")}}},
				"responses":   withOK(jsonBody("FeedbackResponse", "The outcomes were stored."), 400, 401, 413, 415, 422, 503),
			}},
		},
		"components": obj{"schemas": obj{
			"PolicyRecord": obj{
				"type": "object", "additionalProperties": false, "required": schema.Request.Names(), "properties": props,
				"description": "A policy as quoted. years_licensed may be at most age minus 14.",
			},
			"PredictRequest": obj{
				"type": "object", "additionalProperties": false, "required": []string{"records"},
				"properties": obj{"records": obj{"type": "array", "minItems": 1, "maxItems": maxRecords, "items": ref("PolicyRecord")}},
			},
			"Prediction": obj{
				"type": "object", "required": []string{"policy_id", "claim_probability", "risk_band"},
				"properties": obj{
					"policy_id":         obj{"type": "string"},
					"claim_probability": obj{"type": "number", "minimum": 0, "maximum": 1, "description": "Probability of at least one claim in the policy year."},
					"risk_band":         obj{"type": "string", "enum": bands, "description": "low < 5% <= moderate < 10% <= high < 20% <= very_high."},
				},
			},
			"PredictResponse": obj{
				"type": "object", "required": []string{"request_id", "predicted_at", "model", "predictions"},
				"properties": obj{
					"request_id":   obj{"type": "string", "description": "Quote it in /v1/feedback."},
					"predicted_at": obj{"type": "string", "format": "date-time", "description": "When the predictions were made and logged; with the policy id, it names a prediction in /v1/feedback."},
					"model":        ref("ModelRef"),
					"predictions":  obj{"type": "array", "items": ref("Prediction")},
				},
			},
			"ModelRef": obj{
				"type": "object", "required": []string{"name", "version"},
				"properties": obj{"name": obj{"type": "string"}, "version": obj{"type": "integer", "minimum": 1}},
			},
			"ModelInfo": obj{
				"type": "object", "required": []string{"name", "version", "alias", "kind", "run_id", "metrics", "loaded_at", "registry"},
				"properties": obj{
					"name": obj{"type": "string"}, "version": obj{"type": "integer"}, "alias": obj{"type": "string"},
					"kind": obj{"type": "string"}, "run_id": obj{"type": "string"},
					"metrics":   obj{"type": "object", "description": "Out-of-time validation metrics from training."},
					"loaded_at": obj{"type": "string", "format": "date-time"},
					"shadow":    obj{"allOf": []any{ref("ModelRef")}, "description": "The challenger scored in shadow (logged, never returned), when there is one."},
					"registry": obj{"type": "object", "properties": obj{
						"reachable": obj{"type": "boolean"}, "checked_at": obj{"type": "string", "format": "date-time"}, "error": obj{"type": "string"},
					}},
				},
			},
			"ExplainResponse": obj{
				"type": "object", "required": []string{"request_id", "model", "reference", "explanations"},
				"properties": obj{
					"request_id": obj{"type": "string"},
					"model":      ref("ModelRef"),
					"reference":  obj{"type": "string", "description": "What the contributions are measured from."},
					"explanations": obj{"type": "array", "items": obj{
						"type": "object", "required": []string{"policy_id", "claim_probability", "logit", "reference_logit", "reference_probability", "contributions", "terms"},
						"properties": obj{
							"policy_id":             obj{"type": "string"},
							"claim_probability":     obj{"type": "number", "minimum": 0, "maximum": 1},
							"logit":                 obj{"type": "number", "description": "reference_logit plus the sum of the contributions."},
							"reference_logit":       obj{"type": "number"},
							"reference_probability": obj{"type": "number", "minimum": 0, "maximum": 1},
							"contributions": obj{"type": "array", "description": "Per request field, largest first, on the logit scale.", "items": obj{
								"type": "object", "required": []string{"field", "contribution", "direction"},
								"properties": obj{"field": obj{"type": "string"}, "contribution": obj{"type": "number"}, "direction": obj{"type": "string", "enum": []string{"up", "down", "none"}}}}},
							"terms": obj{"type": "array", "description": "Per model feature.", "items": obj{
								"type": "object", "required": []string{"feature", "field", "value", "reference", "coefficient", "contribution"},
								"properties": obj{"feature": obj{"type": "string"}, "field": obj{"type": "string"}, "value": obj{"type": "number"},
									"reference": obj{"type": "number"}, "coefficient": obj{"type": "number"}, "contribution": obj{"type": "number"}}}},
						},
					}},
				},
			},
			"Outcome": obj{
				"type": "object", "additionalProperties": false, "required": []string{"claim"},
				"description": "Give policy_id or request_id, or both. An outcome joins the prediction it labels by request and policy; by policy and predicted_at (the prediction's time, from its answer) without a request id; else the policy's latest prediction before the outcome arrived. It may arrive months later, whichever drift window the prediction fell in.",
				"properties": obj{
					"policy_id":    obj{"type": "string", "maxLength": MaxIDLength, "pattern": openAPIIDPattern},
					"request_id":   obj{"type": "string", "maxLength": MaxIDLength, "pattern": openAPIIDPattern},
					"predicted_at": obj{"type": "string", "format": "date-time", "description": "When the labelled prediction was made: predicted_at of its /v1/predict answer."},
					"claim":        obj{"type": "boolean", "description": "Whether the policy had at least one claim in its year."},
				},
			},
			"FeedbackRequest": obj{
				"type": "object", "additionalProperties": false, "required": []string{"outcomes"},
				"properties": obj{"outcomes": obj{"type": "array", "minItems": 1, "maxItems": maxRecords, "items": ref("Outcome")}},
			},
			"FeedbackResponse": obj{
				"type": "object", "required": []string{"accepted"},
				"properties": obj{"accepted": obj{"type": "integer", "minimum": 1}},
			},
			"Error": obj{
				"type": "object", "required": []string{"error"},
				"properties": obj{"error": obj{"type": "object", "required": []string{"status", "message"},
					"properties": obj{"status": obj{"type": "integer"}, "message": obj{"type": "string"}}}},
			},
		}},
	}
	if bearer {
		doc["components"].(obj)["securitySchemes"] = obj{"bearer": obj{"type": "http", "scheme": "bearer"}}
		doc["security"] = []obj{{"bearer": []string{}}}
	}
	return doc
}

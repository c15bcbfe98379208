package predictapi

import (
	"strconv"

	"github.com/claimrisk/claimrisk/shared/model"
	"github.com/claimrisk/claimrisk/shared/schema"
)

// columnSchema is the JSON Schema of one column, with its unit and range.
func columnSchema(c schema.Column) *Schema {
	s := &Schema{Description: c.Description}
	if c.Unit != "" {
		s.Description = c.Description + " Unit: " + c.Unit + "."
	}
	switch c.Kind {
	case schema.KindString:
		s.Type = "string"
		if len(c.Values) > 0 {
			s.Enum = make([]any, len(c.Values))
			for i, v := range c.Values {
				s.Enum[i] = v
			}
		} else {
			s.MinLength, s.MaxLength, s.Pattern = ptr(1), ptr(MaxIDLength), openAPIIDPattern
		}
	case schema.KindInt:
		s.Type = "integer"
		if len(c.Values) > 0 {
			s.Enum = make([]any, len(c.Values))
			for i, v := range c.Values {
				s.Enum[i], _ = strconv.Atoi(v)
			}
		}
	case schema.KindFloat:
		s.Type = "number"
	}
	s.Minimum, s.Maximum = c.Min, c.Max
	return s
}

func ref(name string) *Schema { return &Schema{Ref: "#/components/schemas/" + name} }

// object is an object schema with its required fields.
func object(required []string, props map[string]*Schema) *Schema {
	return &Schema{Type: "object", Required: required, Properties: props}
}

func typed(t string) *Schema { return &Schema{Type: t} }

func described(t, description string) *Schema { return &Schema{Type: t, Description: description} }

func jsonContent(s *Schema) map[string]MediaType {
	return map[string]MediaType{"application/json": {Schema: s}}
}

func jsonBody(schemaName, description string) Response {
	return Response{Description: description, Content: jsonContent(ref(schemaName))}
}

func requestOf(schemaName string) *RequestBody {
	return &RequestBody{Required: true, Content: jsonContent(ref(schemaName))}
}

// probability is a number in [0, 1].
func probability(description string) *Schema {
	return &Schema{Type: "number", Minimum: ptr(0.0), Maximum: ptr(1.0), Description: description}
}

// idString is an identifier the API refuses when too long or odd.
func idString() *Schema {
	return &Schema{Type: "string", MaxLength: ptr(MaxIDLength), Pattern: openAPIIDPattern}
}

func dateTime(description string) *Schema {
	return &Schema{Type: "string", Format: "date-time", Description: description}
}

// Document is the OpenAPI 3.0 document of the prediction API.
func Document(maxRecords int, bearer bool) *OpenAPI {
	props := map[string]*Schema{}
	for _, c := range schema.Request.Columns {
		props[c.Name] = columnSchema(c)
	}
	bands := make([]any, len(model.Bands))
	for i, b := range model.Bands {
		bands[i] = b.Name
	}
	errorText := map[int]string{
		400: "The body is not one JSON object of valid UTF-8 (data after it, a key twice, nesting over " + strconv.Itoa(MaxDepth) + " deep, a gzip body that is not gzip), or a field is missing, unknown or of the wrong type; the message names it.",
		401: "No bearer token, or the wrong one.",
		413: "The body (after gzip decompression) or the batch is larger than the limit.",
		415: "The content type is not application/json, or the Content-Encoding is neither identity nor gzip.",
		422: "A value is out of range, an identifier is longer than " + strconv.Itoa(MaxIDLength) + " characters or has a control character, the batch is empty, or the record is inconsistent; the message names the field.",
		503: "No model is loaded yet, or the payload log cannot keep up.",
	}
	responses := func(ok Response, codes ...int) map[string]Response {
		out := map[string]Response{"200": ok}
		for _, c := range codes {
			out[strconv.Itoa(c)] = jsonBody("Error", errorText[c])
		}
		return out
	}
	refused := ptr(false)
	doc := &OpenAPI{
		OpenAPI: "3.0.3",
		Info: Info{
			Title:       "claimrisk prediction API",
			Version:     "1.0.0",
			Description: "The probability that a policy has at least one claim in its policy year, from the champion of the claim-risk model. Every answered prediction is logged (identifiers pseudonymised) for monitoring. Request bodies are JSON (Content-Type application/json), sent as is or gzip-compressed (Content-Encoding: gzip); the size limit applies to the body before and after decompression.",
		},
		Paths: map[string]PathItem{
			"/v1/predict": {"post": {
				Summary:     "Claim probabilities for a batch of policies",
				OperationID: "predict",
				RequestBody: requestOf("PredictRequest"),
				Responses:   responses(jsonBody("PredictResponse", "One prediction per record, in order."), 400, 401, 413, 415, 422, 503),
			}},
			"/v1/explain": {"post": {
				Summary:     "Why each policy got its probability: exact contributions of the GLM's features",
				OperationID: "explain",
				RequestBody: requestOf("PredictRequest"),
				Responses:   responses(jsonBody("ExplainResponse", "One explanation per record, in order."), 400, 401, 413, 415, 422, 503),
			}},
			"/v1/model/card": {"get": {
				Summary:     "The champion's factsheet (Markdown, or HTML when asked for text/html)",
				OperationID: "card",
				Responses: responses(Response{Description: "The factsheet.", Content: map[string]MediaType{
					"text/markdown": {Schema: typed("string")}, "text/html": {Schema: typed("string")}}}, 401, 503),
			}},
			"/v1/model": {"get": {
				Summary:     "The model that answers",
				OperationID: "model",
				Responses:   responses(jsonBody("ModelInfo", "The loaded champion."), 401, 503),
			}},
			"/v1/admin/flush": {"post": {
				Summary:     "Write the buffered payload-log and feedback rows now",
				OperationID: "flush",
				Responses: responses(Response{Description: "The rows were written.", Content: jsonContent(&Schema{
					Type: "object", Properties: map[string]*Schema{"written_rows": {Type: "integer", Minimum: ptr(0.0)}}})}, 401, 503),
			}},
			"/v1/feedback": {"post": {
				Summary:     "Observed outcomes of earlier predictions",
				OperationID: "feedback",
				RequestBody: requestOf("FeedbackRequest"),
				Responses:   responses(jsonBody("FeedbackResponse", "The outcomes were stored."), 400, 401, 413, 415, 422, 503),
			}},
		},
		Components: Components{Schemas: map[string]*Schema{
			"PolicyRecord": {
				Type: "object", AdditionalProperties: refused, Required: schema.Request.Names(), Properties: props,
				Description: "A policy as quoted. years_licensed may be at most age minus 14.",
			},
			"PredictRequest": {
				Type: "object", AdditionalProperties: refused, Required: []string{"records"},
				Properties: map[string]*Schema{"records": {Type: "array", MinItems: ptr(1), MaxItems: ptr(maxRecords), Items: ref("PolicyRecord")}},
			},
			"Prediction": object([]string{"policy_id", "claim_probability", "risk_band"}, map[string]*Schema{
				"policy_id":         typed("string"),
				"claim_probability": probability("Probability of at least one claim in the policy year."),
				"risk_band":         {Type: "string", Enum: bands, Description: "low < 5% <= moderate < 10% <= high < 20% <= very_high."},
			}),
			"PredictResponse": object([]string{"request_id", "predicted_at", "model", "predictions"}, map[string]*Schema{
				"request_id":   described("string", "Quote it in /v1/feedback."),
				"predicted_at": dateTime("When the predictions were made and logged; with the policy id, it names a prediction in /v1/feedback."),
				"model":        ref("ModelRef"),
				"predictions":  {Type: "array", Items: ref("Prediction")},
			}),
			"ModelRef": object([]string{"name", "version"}, map[string]*Schema{
				"name": typed("string"), "version": {Type: "integer", Minimum: ptr(1.0)},
			}),
			"ModelInfo": object([]string{"name", "version", "alias", "kind", "run_id", "metrics", "loaded_at", "registry"}, map[string]*Schema{
				"name": typed("string"), "version": typed("integer"), "alias": typed("string"),
				"kind": typed("string"), "run_id": typed("string"),
				"metrics":   described("object", "Out-of-time validation metrics from training."),
				"loaded_at": dateTime(""),
				"shadow":    {AllOf: []*Schema{ref("ModelRef")}, Description: "The challenger scored in shadow (logged, never returned), when there is one."},
				"registry": object(nil, map[string]*Schema{
					"reachable": typed("boolean"), "checked_at": dateTime(""), "error": typed("string"),
				}),
			}),
			"ExplainResponse": object([]string{"request_id", "model", "reference", "explanations"}, map[string]*Schema{
				"request_id": typed("string"),
				"model":      ref("ModelRef"),
				"reference":  described("string", "What the contributions are measured from."),
				"explanations": {Type: "array", Items: object(
					[]string{"policy_id", "claim_probability", "logit", "reference_logit", "reference_probability", "contributions", "terms"},
					map[string]*Schema{
						"policy_id":             typed("string"),
						"claim_probability":     probability(""),
						"logit":                 described("number", "reference_logit plus the sum of the contributions."),
						"reference_logit":       typed("number"),
						"reference_probability": probability(""),
						"contributions": {Type: "array", Description: "Per request field, largest first, on the logit scale.", Items: object(
							[]string{"field", "contribution", "direction"}, map[string]*Schema{
								"field": typed("string"), "contribution": typed("number"),
								"direction": {Type: "string", Enum: []any{"up", "down", "none"}},
							})},
						"terms": {Type: "array", Description: "Per model feature.", Items: object(
							[]string{"feature", "field", "value", "reference", "coefficient", "contribution"}, map[string]*Schema{
								"feature": typed("string"), "field": typed("string"), "value": typed("number"),
								"reference": typed("number"), "coefficient": typed("number"), "contribution": typed("number"),
							})},
					})},
			}),
			"Outcome": {
				Type: "object", AdditionalProperties: refused, Required: []string{"claim"},
				Description: "Give policy_id or request_id, or both. An outcome joins the prediction it labels by request and policy; by policy and predicted_at (the prediction's time, from its answer) without a request id; else the policy's latest prediction before the outcome arrived. It may arrive months later, whichever drift window the prediction fell in.",
				Properties: map[string]*Schema{
					"policy_id":    idString(),
					"request_id":   idString(),
					"predicted_at": dateTime("When the labelled prediction was made: predicted_at of its /v1/predict answer."),
					"claim":        described("boolean", "Whether the policy had at least one claim in its year."),
				},
			},
			"FeedbackRequest": {
				Type: "object", AdditionalProperties: refused, Required: []string{"outcomes"},
				Properties: map[string]*Schema{"outcomes": {Type: "array", MinItems: ptr(1), MaxItems: ptr(maxRecords), Items: ref("Outcome")}},
			},
			"FeedbackResponse": object([]string{"accepted"}, map[string]*Schema{"accepted": {Type: "integer", Minimum: ptr(1.0)}}),
			"Error": object([]string{"error"}, map[string]*Schema{"error": object([]string{"status", "message"}, map[string]*Schema{
				"status": typed("integer"), "message": typed("string"),
			})}),
		}},
	}
	if bearer {
		doc.Components.SecuritySchemes = map[string]SecurityScheme{"bearer": {Type: "http", Scheme: "bearer"}}
		doc.Security = []map[string][]string{{"bearer": {}}}
	}
	return doc
}

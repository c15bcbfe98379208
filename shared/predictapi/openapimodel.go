package predictapi

// The part of the OpenAPI 3.0 object model that the prediction API's
// document uses, typed: Document builds it, the function serves it as JSON,
// RenderHTML and the docs generator read it. Fields are declared in the
// order of their JSON names, so a document encodes as a map of the same
// keys would, sorted.

// OpenAPI is a whole document.
type OpenAPI struct {
	Components Components            `json:"components"`
	Info       Info                  `json:"info"`
	OpenAPI    string                `json:"openapi"`
	Paths      map[string]PathItem   `json:"paths"`
	Security   []map[string][]string `json:"security,omitempty"`
}

// Info describes the API.
type Info struct {
	Description string `json:"description"`
	Title       string `json:"title"`
	Version     string `json:"version"`
}

// PathItem holds a path's operations by lower-case HTTP method.
type PathItem map[string]*Operation

// Operation is one method of one path.
type Operation struct {
	OperationID string              `json:"operationId"`
	RequestBody *RequestBody        `json:"requestBody,omitempty"`
	Responses   map[string]Response `json:"responses"`
	Summary     string              `json:"summary"`
}

// RequestBody is what an operation takes.
type RequestBody struct {
	Content  map[string]MediaType `json:"content"`
	Required bool                 `json:"required"`
}

// Response is one status code's answer.
type Response struct {
	Content     map[string]MediaType `json:"content,omitempty"`
	Description string               `json:"description"`
}

// MediaType gives the schema of one content type.
type MediaType struct {
	Schema *Schema `json:"schema"`
}

// Components holds the named schemas and the security schemes.
type Components struct {
	Schemas         map[string]*Schema        `json:"schemas"`
	SecuritySchemes map[string]SecurityScheme `json:"securitySchemes,omitempty"`
}

// SecurityScheme is how a client authenticates.
type SecurityScheme struct {
	Scheme string `json:"scheme"`
	Type   string `json:"type"`
}

// Schema is a JSON Schema as OpenAPI 3.0 has it.
type Schema struct {
	Ref                  string             `json:"$ref,omitempty"`
	AdditionalProperties *bool              `json:"additionalProperties,omitempty"`
	AllOf                []*Schema          `json:"allOf,omitempty"`
	Description          string             `json:"description,omitempty"`
	Enum                 []any              `json:"enum,omitempty"`
	Format               string             `json:"format,omitempty"`
	Items                *Schema            `json:"items,omitempty"`
	MaxItems             *int               `json:"maxItems,omitempty"`
	MaxLength            *int               `json:"maxLength,omitempty"`
	Maximum              *float64           `json:"maximum,omitempty"`
	MinItems             *int               `json:"minItems,omitempty"`
	MinLength            *int               `json:"minLength,omitempty"`
	Minimum              *float64           `json:"minimum,omitempty"`
	Pattern              string             `json:"pattern,omitempty"`
	Properties           map[string]*Schema `json:"properties,omitempty"`
	Required             []string           `json:"required,omitempty"`
	Type                 string             `json:"type,omitempty"`
}

// RefName is the name of the component a $ref schema names, or "".
func (s *Schema) RefName() string {
	const prefix = "#/components/schemas/"
	if s == nil || len(s.Ref) <= len(prefix) || s.Ref[:len(prefix)] != prefix {
		return ""
	}
	return s.Ref[len(prefix):]
}

// JSONSchema is the schema of a body's application/json content, or nil.
func JSONSchema(content map[string]MediaType) *Schema {
	return content["application/json"].Schema
}

func ptr[T any](v T) *T { return &v }

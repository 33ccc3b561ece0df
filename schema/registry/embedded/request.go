package embedded

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/twmb/avro"
)

// schemaRequest is the body of register, lookup and compatibility requests.
type schemaRequest struct {
	Schema     string            `json:"schema"`
	SchemaType string            `json:"schemaType"`
	References []json.RawMessage `json:"references"`
}

// requestSchema is a parsed and normalized schema from a request body.
type requestSchema struct {
	avro *avro.Schema
	text string // normalized
}

// readSchema decodes and validates the schema in a request body.
func (r *Registry) readSchema(w http.ResponseWriter, req *http.Request) (requestSchema, *apiError) {
	var body schemaRequest
	if err := decodeBody(w, req, r.cfg.maxBody, &body); err != nil {
		return requestSchema{}, err
	}
	switch t := strings.ToUpper(body.SchemaType); t {
	case "", schemaTypeAvro:
	case "JSON", "PROTOBUF":
		return requestSchema{}, errInvalidSchema("Schema type %s is not supported: this registry stores AVRO schemas only", t)
	default:
		return requestSchema{}, errInvalidSchema("Invalid schema type %q: this registry stores AVRO schemas only", body.SchemaType)
	}
	if len(body.References) > 0 {
		return requestSchema{}, errInvalidSchema("Schema references are not supported by this registry")
	}
	s, text, err := parseAvro(body.Schema)
	if err != nil {
		return requestSchema{}, err
	}
	return requestSchema{avro: s, text: text}, nil
}

// versionResponse is a subject version as Confluent renders it; schemaType is omitted for
// AVRO, as Confluent does.
type versionResponse struct {
	Subject    string `json:"subject"`
	Version    int    `json:"version"`
	ID         int    `json:"id"`
	SchemaType string `json:"schemaType,omitempty"`
	Schema     string `json:"schema"`
}

func renderType(typ string) string {
	if typ == schemaTypeAvro {
		return ""
	}
	return typ
}

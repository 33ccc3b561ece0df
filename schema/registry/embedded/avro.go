package embedded

import (
	"encoding/json"
	"strings"

	"github.com/hamba/avro/v2"
)

// schemaTypeAvro is the only schema type this registry stores.
const schemaTypeAvro = "AVRO"

// parseAvro parses an Avro schema and returns it with its normalized text: the schema
// re-serialized by the parser (whitespace removed, namespaces folded into full names, doc,
// aliases, defaults and custom properties kept, properties sorted; defaults of bytes and fixed
// values written as Avro writes them, see fixByteDefaults). Two registrations are the
// same schema when their normalized texts are equal. Each call uses its own named-type cache
// so that unrelated schemas reusing a record name never interfere.
func parseAvro(text string) (avro.Schema, string, *apiError) {
	if strings.TrimSpace(text) == "" {
		return nil, "", errInvalidSchema("Empty schema")
	}
	s, err := avro.ParseWithCache(text, "", &avro.SchemaCache{})
	if err != nil {
		return nil, "", errInvalidSchema("Invalid schema %s, details: %v", text, err)
	}
	b, err := json.Marshal(s)
	if err == nil {
		b, err = fixByteDefaults(s, b)
	}
	if err != nil {
		return nil, "", errInvalidSchema("Invalid schema %s, details: %v", text, err)
	}
	return s, string(b), nil
}

// parseStored parses a normalized text that was accepted before.
func parseStored(text string) (avro.Schema, error) {
	return avro.ParseWithCache(text, "", &avro.SchemaCache{})
}

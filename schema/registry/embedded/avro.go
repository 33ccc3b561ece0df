package embedded

import (
	"strings"

	"github.com/twmb/avro"
)

// schemaTypeAvro is the only schema type this registry stores.
const schemaTypeAvro = "AVRO"

// parseAvro parses an Avro schema and returns it with its normalized text: the schema
// re-serialized from its parsed form (whitespace removed, each object's keys in sorted order,
// a named type's full name written as name and namespace, a reference to one as its full name;
// doc, aliases, defaults and custom properties kept; defaults of bytes and fixed values written
// as Avro writes them, a string of code points 0-255). Two registrations are the same schema
// when their normalized texts are equal, however each wrote its names.
func parseAvro(text string) (*avro.Schema, string, *apiError) {
	if strings.TrimSpace(text) == "" {
		return nil, "", errInvalidSchema("Empty schema")
	}
	s, err := avro.Parse(text)
	if err != nil {
		return nil, "", errInvalidSchema("Invalid schema %s, details: %v", text, err)
	}
	root := s.Root()
	defined := map[string]bool{}
	splitNames(root, defined)
	qualifyReferences(root, "", defined)
	normal, err := root.Schema()
	if err != nil {
		return nil, "", errInvalidSchema("Invalid schema %s, details: %v", text, err)
	}
	return s, normal.String(), nil
}

// parseStored parses a normalized text that was accepted before.
func parseStored(text string) (*avro.Schema, error) {
	return avro.Parse(text)
}

// splitNames writes the full name of every named type in n as a short name and a namespace,
// and adds the full names to defined.
func splitNames(n *avro.SchemaNode, defined map[string]bool) {
	if named(n.Type) {
		if i := strings.LastIndexByte(n.Name, '.'); i >= 0 {
			n.Namespace, n.Name = n.Name[:i], n.Name[i+1:]
		}
		defined[fullName(n.Namespace, n.Name)] = true
	}
	forEachChild(n, func(c *avro.SchemaNode) { splitNames(c, defined) })
}

// qualifyReferences writes every reference in n to a named type defined in the schema by the
// type's full name, resolving a short name in ns, the namespace around it.
func qualifyReferences(n *avro.SchemaNode, ns string, defined map[string]bool) {
	if named(n.Type) {
		ns = n.Namespace
	} else if !builtIn[n.Type] && !strings.Contains(n.Type, ".") && defined[fullName(ns, n.Type)] {
		n.Type = fullName(ns, n.Type)
	}
	forEachChild(n, func(c *avro.SchemaNode) { qualifyReferences(c, ns, defined) })
}

func forEachChild(n *avro.SchemaNode, f func(*avro.SchemaNode)) {
	for i := range n.Fields {
		f(&n.Fields[i].Type)
	}
	if n.Items != nil {
		f(n.Items)
	}
	if n.Values != nil {
		f(n.Values)
	}
	for i := range n.Branches {
		f(&n.Branches[i])
	}
}

func named(typ string) bool {
	return typ == "record" || typ == "error" || typ == "enum" || typ == "fixed"
}

// builtIn holds the type names that are not references.
var builtIn = map[string]bool{
	"null": true, "boolean": true, "int": true, "long": true, "float": true, "double": true,
	"string": true, "bytes": true, "record": true, "error": true, "enum": true, "fixed": true,
	"array": true, "map": true, "union": true,
}

func fullName(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + "." + name
}

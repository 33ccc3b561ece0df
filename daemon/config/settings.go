package config

import (
	"reflect"
	"strings"
)

// Setting describes one daemon setting.
type Setting struct {
	// Path is the dotted key path in the config file ("rest.listen").
	Path string
	// Env is the environment variable that overrides it ("SLUICE_REST_LISTEN").
	Env string
	// Default is the value used when neither gives one; empty for none.
	Default string
	// Type is the type of its value: string, integer, boolean or list (of
	// strings; comma-separated in its environment variable).
	Type string
}

// Settings lists every daemon setting, in declaration order.
func Settings() []Setting {
	var out []Setting
	walkFields(reflect.TypeOf(Daemon{}), "", func(path string, f reflect.StructField, _ []int) {
		out = append(out, Setting{Path: path, Env: envName(path), Default: f.Tag.Get("default"), Type: typeName(f.Type)})
	})
	return out
}

// typeName names the type of a setting's field for documentation.
func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "integer"
	case reflect.Slice:
		return "list"
	default:
		return "string"
	}
}

// envName is the environment variable of a setting path.
func envName(path string) string {
	return "SLUICE_" + strings.ToUpper(strings.ReplaceAll(path, ".", "_"))
}

// keyOf is the config key of a struct field, or "" for fields that are not
// settings.
func keyOf(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "-" {
		return ""
	}
	return name
}

// group reports whether t (a struct, or a pointer to one) is a group of
// settings rather than a single value.
func group(t reflect.Type) (reflect.Type, bool) {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t, t.Kind() == reflect.Struct
}

// walkFields calls leaf for every setting under t, depth first, with its
// path and the field index path from the root.
func walkFields(t reflect.Type, prefix string, leaf func(path string, f reflect.StructField, index []int)) {
	var walk func(t reflect.Type, prefix string, index []int)
	walk = func(t reflect.Type, prefix string, index []int) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			key := keyOf(f)
			if key == "" {
				continue
			}
			path := prefix + key
			idx := append(append([]int(nil), index...), i)
			if gt, ok := group(f.Type); ok {
				walk(gt, path+".", idx)
				continue
			}
			leaf(path, f, idx)
		}
	}
	walk(t, prefix, nil)
}

// defaultOf returns the default tag of a field of a settings struct.
func defaultOf(v any, field string) string {
	f, _ := reflect.TypeOf(v).FieldByName(field)
	return f.Tag.Get("default")
}

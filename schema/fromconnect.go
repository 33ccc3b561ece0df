package schema

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"

	"github.com/sluice-cdc/sluice/schema/event"
)

// ParseConnectSchema parses the "schema" part of a Kafka Connect
// JsonConverter envelope (what ConnectJSON.AppendSchema writes, or Kafka
// Connect itself) into an event.Schema. Map schemas, which no source of
// sluice produces, are refused.
func ParseConnectSchema(data []byte) (*event.Schema, error) {
	var raw map[string]any
	if err := decodeJSON(data, &raw); err != nil {
		return nil, fmt.Errorf("parse Connect schema: %w", err)
	}
	s, err := connectSchema(raw, "")
	if err != nil {
		return nil, fmt.Errorf("parse Connect schema: %w", err)
	}
	return s, nil
}

func decodeJSON(data []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	return d.Decode(v)
}

func connectSchema(raw map[string]any, path string) (*event.Schema, error) {
	typeName, _ := raw["type"].(string)
	var t event.Type
	for et, n := range connectTypeNames {
		if n == typeName {
			t = et
		}
	}
	if t == 0 {
		return nil, fmt.Errorf("%s: unsupported Connect type %q", describe(path), typeName)
	}
	s := &event.Schema{Type: t}
	s.Optional, _ = raw["optional"].(bool)
	s.Name, _ = raw["name"].(string)
	s.Doc, _ = raw["doc"].(string)
	if v, ok := raw["version"].(json.Number); ok {
		n, err := strconv.Atoi(string(v))
		if err != nil {
			return nil, fmt.Errorf("%s: version %q: %w", describe(path), v, err)
		}
		s.Version = n
	}
	if ps, ok := raw["parameters"].(map[string]any); ok {
		s.Params = make(map[string]string, len(ps))
		for k, v := range ps {
			s.Params[k], _ = v.(string)
		}
	}
	switch t {
	case event.Array:
		items, _ := raw["items"].(map[string]any)
		elem, err := connectSchema(items, path+"[]")
		if err != nil {
			return nil, err
		}
		s.Elem = elem
	case event.Struct:
		fields, _ := raw["fields"].([]any)
		for _, f := range fields {
			fm, _ := f.(map[string]any)
			name, _ := fm["field"].(string)
			p := name
			if path != "" {
				p = path + "." + name
			}
			fs, err := connectSchema(fm, p)
			if err != nil {
				return nil, err
			}
			s.Fields = append(s.Fields, event.Field{Name: name, Schema: fs})
		}
	}
	if d, ok := raw["default"]; ok && d != nil {
		v, err := connectValue(s, d, path)
		if err != nil {
			return nil, fmt.Errorf("default of %s: %w", describe(path), err)
		}
		s.Default = v
	}
	return s, nil
}

// DecodeValue decodes data, the JSON of one value of schema s as
// JsonConverter writes it (a "payload"), into the Go form a Row holds.
// Decimals are read from base64 bytes or from numbers, whichever
// decimal.format wrote.
func (c ConnectJSON) DecodeValue(s *event.Schema, data []byte) (any, error) {
	var raw any
	if err := decodeJSON(data, &raw); err != nil {
		return nil, fmt.Errorf("decode Connect JSON of %s: %w", schemaLabel(s), err)
	}
	v, err := connectValue(s, raw, "")
	if err != nil {
		return nil, fmt.Errorf("decode Connect JSON of %s: %w", schemaLabel(s), err)
	}
	return v, nil
}

// connectValue converts a decoded JSON value (json.Number for numbers) of
// schema s.
func connectValue(s *event.Schema, raw any, path string) (any, error) {
	if raw == nil {
		if !s.Optional && s.Default == nil {
			return nil, fmt.Errorf("%s: null for a required value", describe(path))
		}
		return nil, nil
	}
	bad := func() (any, error) {
		return nil, fmt.Errorf("%s: want %s, got JSON %T", describe(path), connectTypeNames[s.Type], raw)
	}
	switch s.Type {
	case event.Boolean:
		b, ok := raw.(bool)
		if !ok {
			return bad()
		}
		return b, nil
	case event.Int8, event.Int16, event.Int32, event.Int64:
		n, ok := raw.(json.Number)
		if !ok {
			return bad()
		}
		i, err := intOf(s.Type, string(n))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", describe(path), err)
		}
		return i, nil
	case event.Float32, event.Float64:
		var f float64
		switch x := raw.(type) {
		case json.Number:
			var err error
			if f, err = strconv.ParseFloat(string(x), 64); err != nil {
				return nil, fmt.Errorf("%s: %w", describe(path), err)
			}
		case string:
			switch x {
			case "NaN":
				f = math.NaN()
			case "Infinity":
				f = math.Inf(1)
			case "-Infinity":
				f = math.Inf(-1)
			default:
				return bad()
			}
		default:
			return bad()
		}
		if s.Type == event.Float32 {
			return float32(f), nil
		}
		return f, nil
	case event.String:
		str, ok := raw.(string)
		if !ok {
			return bad()
		}
		return str, nil
	case event.Bytes:
		if s.Name == event.DecimalName {
			scale, err := decimalScale(s)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", describe(path), err)
			}
			return connectDecimal(raw, scale, path)
		}
		str, ok := raw.(string)
		if !ok {
			return bad()
		}
		b, err := base64.StdEncoding.DecodeString(str)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", describe(path), err)
		}
		return b, nil
	case event.Array:
		list, ok := raw.([]any)
		if !ok {
			return bad()
		}
		out := make([]any, len(list))
		for i, e := range list {
			v, err := connectValue(s.Elem, e, path+"[]")
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case event.Struct:
		obj, ok := raw.(map[string]any)
		if !ok {
			return bad()
		}
		if s.Name == event.VariableDecimalName {
			sc, _ := obj["scale"].(json.Number)
			scale, err := strconv.ParseInt(string(sc), 10, 32)
			if err != nil {
				return nil, fmt.Errorf("%s: scale: %w", describe(path), err)
			}
			return connectDecimal(obj["value"], int32(scale), path)
		}
		row := make(event.Row, len(s.Fields))
		for i, f := range s.Fields {
			p := f.Name
			if path != "" {
				p = path + "." + f.Name
			}
			v, err := connectValue(f.Schema, obj[f.Name], p)
			if err != nil {
				return nil, err
			}
			row[i] = v
		}
		return row, nil
	}
	return nil, fmt.Errorf("%s: unknown schema type %s", describe(path), s.Type)
}

// connectDecimal reads a decimal written as base64 unscaled bytes or as a
// JSON number (decimal.format NUMERIC), with the given scale.
func connectDecimal(raw any, scale int32, path string) (any, error) {
	switch x := raw.(type) {
	case string:
		b, err := base64.StdEncoding.DecodeString(x)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", describe(path), err)
		}
		u := setUnscaled(new(big.Int), make([]big.Word, unscaledWords(len(b))), b)
		return event.Decimal{Unscaled: u, Scale: scale}, nil
	case json.Number:
		d, err := event.ParseDecimal(string(x))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", describe(path), err)
		}
		return d, nil
	}
	return nil, fmt.Errorf("%s: want a decimal as base64 or a number, got JSON %T", describe(path), raw)
}

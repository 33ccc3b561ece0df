package smtjava

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"

	"github.com/sluice-cdc/sluice/schema/event"
	"github.com/sluice-cdc/sluice/schema/record"
)

// Encode returns r as the runner reads and writes records: a JSON object
// of topic, key, value, headers (a list of key and value) and timestamp
// (absent when r's is 0), where the key, the value and each header value
// are in Kafka Connect's JsonConverter form with schemas,
// {"schema": …, "payload": …}, or null for a null without a schema.
// Decimals are base64 (JsonConverter's decimal.format BASE64); a Debezium
// VariableScaleDecimal is its struct of scale and value. Map keys are
// sorted, so equal records encode to equal bytes.
//
// Values must have the Go types event.Row documents for their schema:
// Encode fails on an int64 under an int32 schema, a decimal whose scale
// is not its schema's, a null in a required field, and the like.
func Encode(r *record.Record) ([]byte, error) {
	key, err := connectData(r.KeySchema, r.Key)
	if err != nil {
		return nil, fmt.Errorf("key: %w", err)
	}
	value, err := connectData(r.ValueSchema, r.Value)
	if err != nil {
		return nil, fmt.Errorf("value: %w", err)
	}
	headers := []any{}
	for _, h := range r.Headers {
		v, err := connectData(h.Schema, h.Value)
		if err != nil {
			return nil, fmt.Errorf("header %s: %w", h.Key, err)
		}
		headers = append(headers, map[string]any{"key": h.Key, "value": v})
	}
	out := map[string]any{"topic": r.Topic, "key": key, "value": value, "headers": headers}
	if r.Timestamp != 0 {
		out["timestamp"] = r.Timestamp
	}
	return json.Marshal(out)
}

// Decode reads a record in Encode's form, giving each value the Go type
// event.Row documents for its schema. Map schemas, which sluice's records
// never hold, are refused.
func Decode(b []byte) (*record.Record, error) {
	var in struct {
		Topic   string `json:"topic"`
		Key     any    `json:"key"`
		Value   any    `json:"value"`
		Headers []struct {
			Key   string `json:"key"`
			Value any    `json:"value"`
		} `json:"headers"`
		Timestamp int64 `json:"timestamp"`
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&in); err != nil {
		return nil, err
	}
	r := &record.Record{Topic: in.Topic, Timestamp: in.Timestamp}
	var err error
	if r.KeySchema, r.Key, err = fromConnectData(in.Key); err != nil {
		return nil, fmt.Errorf("key: %w", err)
	}
	if r.ValueSchema, r.Value, err = fromConnectData(in.Value); err != nil {
		return nil, fmt.Errorf("value: %w", err)
	}
	for _, h := range in.Headers {
		s, v, err := fromConnectData(h.Value)
		if err != nil {
			return nil, fmt.Errorf("header %s: %w", h.Key, err)
		}
		r.Headers = append(r.Headers, record.Header{Key: h.Key, Schema: s, Value: v})
	}
	return r, nil
}

// typeNames are JsonConverter's names of the types.
var typeNames = map[event.Type]string{
	event.Boolean: "boolean", event.Int8: "int8", event.Int16: "int16", event.Int32: "int32", event.Int64: "int64",
	event.Float32: "float", event.Float64: "double", event.String: "string", event.Bytes: "bytes",
	event.Array: "array", event.Struct: "struct",
}

// logicalTypes are the types of Kafka Connect's logical types, which
// JsonConverter refuses under another type.
var logicalTypes = map[string]event.Type{
	event.ConnectDateName: event.Int32, event.ConnectTimeName: event.Int32, event.ConnectTimestampName: event.Int64, event.DecimalName: event.Bytes,
}

func connectData(s *event.Schema, v any) (any, error) {
	if s == nil && v == nil {
		return nil, nil
	}
	js, err := schemaJSON(s)
	if err != nil {
		return nil, err
	}
	p, err := payload(s, v)
	if err != nil {
		return nil, err
	}
	return map[string]any{"schema": js, "payload": p}, nil
}

func schemaJSON(s *event.Schema) (any, error) {
	if s == nil {
		return nil, nil
	}
	name, ok := typeNames[s.Type]
	if !ok {
		return nil, fmt.Errorf("unknown type %v", s.Type)
	}
	out := map[string]any{"type": name, "optional": s.Optional}
	switch s.Type {
	case event.Struct:
		fields := []any{}
		for _, f := range s.Fields {
			fs, err := schemaJSON(f.Schema)
			if err != nil {
				return nil, fmt.Errorf("field %s: %w", f.Name, err)
			}
			fs.(map[string]any)["field"] = f.Name
			fields = append(fields, fs)
		}
		out["fields"] = fields
	case event.Array:
		items, err := schemaJSON(s.Elem)
		if err != nil {
			return nil, fmt.Errorf("items: %w", err)
		}
		out["items"] = items
	}
	if s.Name != "" {
		out["name"] = s.Name
	}
	if s.Version != 0 {
		out["version"] = s.Version
	}
	if s.Doc != "" {
		out["doc"] = s.Doc
	}
	if len(s.Params) > 0 {
		out["parameters"] = s.Params
	}
	if s.Default != nil {
		d, err := payload(s, s.Default)
		if err != nil {
			return nil, fmt.Errorf("default: %w", err)
		}
		out["default"] = d
	}
	return out, nil
}

// payload is v, of schema s, as JsonConverter writes it.
func payload(s *event.Schema, v any) (any, error) {
	if v == nil {
		if s != nil && !s.Optional {
			return nil, fmt.Errorf("null for a required %s", s.Type)
		}
		return nil, nil
	}
	if s == nil {
		return schemaless(v)
	}
	mismatch := func() (any, error) { return nil, fmt.Errorf("a %T for a %s schema", v, describe(s)) }
	if want, ok := logicalTypes[s.Name]; ok && want != s.Type {
		return mismatch()
	}
	switch s.Type {
	case event.Boolean:
		if _, ok := v.(bool); !ok {
			return mismatch()
		}
		return v, nil
	case event.Int8, event.Int16, event.Int32, event.Int64:
		n, t, ok := integer(v)
		if !ok || t != s.Type {
			return mismatch()
		}
		return n, nil
	case event.Float32:
		f, ok := v.(float32)
		if !ok {
			return mismatch()
		}
		return number(float64(f), 32)
	case event.Float64:
		f, ok := v.(float64)
		if !ok {
			return mismatch()
		}
		return number(f, 64)
	case event.String:
		if _, ok := v.(string); !ok {
			return mismatch()
		}
		return v, nil
	case event.Bytes:
		if s.Name == event.DecimalName {
			d, ok := v.(event.Decimal)
			if !ok {
				return mismatch()
			}
			if scale := s.Params[event.DecimalScaleParam]; scale != strconv.Itoa(int(d.Scale)) {
				return nil, fmt.Errorf("decimal %s has scale %d, its schema %q", d, d.Scale, scale)
			}
			return base64.StdEncoding.EncodeToString(twosComplement(d.Unscaled)), nil
		}
		b, ok := v.([]byte)
		if !ok {
			return mismatch()
		}
		return base64.StdEncoding.EncodeToString(b), nil
	case event.Array:
		items, ok := v.([]any)
		if !ok {
			return mismatch()
		}
		out := make([]any, len(items))
		for i, item := range items {
			p, err := payload(s.Elem, item)
			if err != nil {
				return nil, fmt.Errorf("item %d: %w", i, err)
			}
			out[i] = p
		}
		return out, nil
	case event.Struct:
		if d, ok := v.(event.Decimal); ok && s.Name == event.VariableDecimalName {
			return map[string]any{"scale": d.Scale, "value": base64.StdEncoding.EncodeToString(twosComplement(d.Unscaled))}, nil
		}
		row, ok := v.(event.Row)
		if !ok {
			var items []any
			if items, ok = v.([]any); !ok {
				return mismatch()
			}
			row = items
		}
		if len(row) != len(s.Fields) {
			return nil, fmt.Errorf("%d values for a struct of %d fields", len(row), len(s.Fields))
		}
		out := make(map[string]any, len(row))
		for i, f := range s.Fields {
			p, err := payload(f.Schema, row[i])
			if err != nil {
				return nil, fmt.Errorf("field %s: %w", f.Name, err)
			}
			out[f.Name] = p
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown type %v", s.Type)
}

// schemaless is a value without a schema as JsonConverter writes it.
func schemaless(v any) (any, error) {
	switch x := v.(type) {
	case nil, bool, string:
		return x, nil
	case float32:
		return number(float64(x), 32)
	case float64:
		return number(x, 64)
	case []byte:
		return base64.StdEncoding.EncodeToString(x), nil
	case []any:
		out := make([]any, len(x))
		for i, item := range x {
			p, err := schemaless(item)
			if err != nil {
				return nil, err
			}
			out[i] = p
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, item := range x {
			p, err := schemaless(item)
			if err != nil {
				return nil, err
			}
			out[k] = p
		}
		return out, nil
	}
	if n, _, ok := integer(v); ok {
		return n, nil
	}
	return nil, fmt.Errorf("a %T without a schema", v)
}

func integer(v any) (int64, event.Type, bool) {
	switch n := v.(type) {
	case int8:
		return int64(n), event.Int8, true
	case int16:
		return int64(n), event.Int16, true
	case int32:
		return int64(n), event.Int32, true
	case int64:
		return n, event.Int64, true
	}
	return 0, 0, false
}

// number writes a float as the shortest decimal that reads back as it.
func number(f float64, bits int) (any, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("%v has no JSON form", f)
	}
	return json.Number(strconv.FormatFloat(f, 'g', -1, bits)), nil
}

// twosComplement is Java's BigInteger.toByteArray: big-endian two's
// complement in as few bytes as hold the sign.
func twosComplement(x *big.Int) []byte {
	if x == nil {
		return []byte{0}
	}
	if x.Sign() >= 0 {
		b := x.Bytes()
		if len(b) == 0 || b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return b
	}
	n := new(big.Int).Not(x).BitLen()/8 + 1
	m := new(big.Int).Lsh(big.NewInt(1), uint(8*n))
	return m.Add(m, x).FillBytes(make([]byte, n))
}

func fromTwosComplement(b []byte) *big.Int {
	x := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		x.Sub(x, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return x
}

func describe(s *event.Schema) string {
	if s.Name != "" {
		return s.Type.String() + " " + s.Name
	}
	return s.Type.String()
}

// fromConnectData reads {"schema": …, "payload": …} or null.
func fromConnectData(v any) (*event.Schema, any, error) {
	if v == nil {
		return nil, nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, nil, fmt.Errorf("not a schema and payload: %v", v)
	}
	if m["schema"] == nil {
		p, err := fromSchemaless(m["payload"])
		return nil, p, err
	}
	s, err := schemaFrom(m["schema"])
	if err != nil {
		return nil, nil, fmt.Errorf("schema: %w", err)
	}
	p, err := valueFrom(s, m["payload"])
	return s, p, err
}

func schemaFrom(v any) (*event.Schema, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("not a schema: %v", v)
	}
	s := &event.Schema{}
	for t, name := range typeNames {
		if m["type"] == name {
			s.Type = t
		}
	}
	if s.Type == 0 {
		return nil, fmt.Errorf("type %v is not supported", m["type"])
	}
	s.Optional, _ = m["optional"].(bool)
	s.Name, _ = m["name"].(string)
	s.Doc, _ = m["doc"].(string)
	if n, ok := m["version"].(json.Number); ok {
		v, err := strconv.Atoi(n.String())
		if err != nil {
			return nil, fmt.Errorf("version %s: %w", n, err)
		}
		s.Version = v
	}
	if ps, ok := m["parameters"].(map[string]any); ok && len(ps) > 0 {
		s.Params = make(map[string]string, len(ps))
		for k, p := range ps {
			s.Params[k] = fmt.Sprint(p)
		}
	}
	switch s.Type {
	case event.Struct:
		fields, _ := m["fields"].([]any)
		for _, f := range fields {
			fs, err := schemaFrom(f)
			if err != nil {
				return nil, err
			}
			name, _ := f.(map[string]any)["field"].(string)
			s.Fields = append(s.Fields, event.Field{Name: name, Schema: fs})
		}
	case event.Array:
		items, err := schemaFrom(m["items"])
		if err != nil {
			return nil, fmt.Errorf("items: %w", err)
		}
		s.Elem = items
	}
	if d, ok := m["default"]; ok && d != nil {
		v, err := valueFrom(s, d)
		if err != nil {
			return nil, fmt.Errorf("default: %w", err)
		}
		s.Default = v
	}
	return s, nil
}

// valueFrom reads a payload of schema s.
func valueFrom(s *event.Schema, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	bad := func() (any, error) { return nil, fmt.Errorf("%v (a %T) for a %s schema", v, v, describe(s)) }
	switch s.Type {
	case event.Boolean:
		if _, ok := v.(bool); !ok {
			return bad()
		}
		return v, nil
	case event.Int8, event.Int16, event.Int32, event.Int64:
		n, ok := v.(json.Number)
		if !ok {
			return bad()
		}
		bits := map[event.Type]int{event.Int8: 8, event.Int16: 16, event.Int32: 32, event.Int64: 64}[s.Type]
		i, err := strconv.ParseInt(n.String(), 10, bits)
		if err != nil {
			return bad()
		}
		switch s.Type {
		case event.Int8:
			return int8(i), nil
		case event.Int16:
			return int16(i), nil
		case event.Int32:
			return int32(i), nil
		}
		return i, nil
	case event.Float32, event.Float64:
		n, ok := v.(json.Number)
		if !ok {
			return bad()
		}
		if s.Type == event.Float32 {
			f, err := strconv.ParseFloat(n.String(), 32)
			if err != nil {
				return bad()
			}
			return float32(f), nil
		}
		f, err := strconv.ParseFloat(n.String(), 64)
		if err != nil {
			return bad()
		}
		return f, nil
	case event.String:
		if _, ok := v.(string); !ok {
			return bad()
		}
		return v, nil
	case event.Bytes:
		text, ok := v.(string)
		if !ok {
			return bad()
		}
		b, err := base64.StdEncoding.DecodeString(text)
		if err != nil {
			return bad()
		}
		if s.Name == event.DecimalName {
			scale, err := strconv.Atoi(s.Params[event.DecimalScaleParam])
			if err != nil {
				return nil, fmt.Errorf("decimal schema without a scale: %v", s.Params)
			}
			return event.Decimal{Unscaled: fromTwosComplement(b), Scale: int32(scale)}, nil
		}
		return b, nil
	case event.Array:
		items, ok := v.([]any)
		if !ok {
			return bad()
		}
		out := make([]any, len(items))
		for i, item := range items {
			x, err := valueFrom(s.Elem, item)
			if err != nil {
				return nil, fmt.Errorf("item %d: %w", i, err)
			}
			out[i] = x
		}
		return out, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return bad()
	}
	if s.Name == event.VariableDecimalName {
		scale, err1 := strconv.Atoi(fmt.Sprint(m["scale"]))
		b, err2 := base64.StdEncoding.DecodeString(fmt.Sprint(m["value"]))
		if err1 != nil || err2 != nil {
			return bad()
		}
		return event.Decimal{Unscaled: fromTwosComplement(b), Scale: int32(scale)}, nil
	}
	row := make(event.Row, len(s.Fields))
	for i, f := range s.Fields {
		x, err := valueFrom(f.Schema, m[f.Name])
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", f.Name, err)
		}
		row[i] = x
	}
	return row, nil
}

// fromSchemaless reads a payload without a schema: numbers are int64 when
// whole, as JsonConverter reads them, else float64.
func fromSchemaless(v any) (any, error) {
	switch x := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(x.String(), 10, 64); err == nil {
			return i, nil
		}
		return x.Float64()
	case []any:
		out := make([]any, len(x))
		for i, item := range x {
			p, err := fromSchemaless(item)
			if err != nil {
				return nil, err
			}
			out[i] = p
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, item := range x {
			p, err := fromSchemaless(item)
			if err != nil {
				return nil, err
			}
			out[k] = p
		}
		return out, nil
	}
	return v, nil
}

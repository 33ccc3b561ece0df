package schema

import (
	"fmt"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/sluice-cdc/sluice/schema/event"
)

// TestHambaGenericDecoderAgrees decodes what Codec wrote with hamba/avro's
// own generic decoder (avro.Unmarshal into any, from the parsed JSON schema)
// and checks it sees the same values: an independent reading of our bytes.
func TestHambaGenericDecoderAgrees(t *testing.T) {
	for _, tc := range valueCases() {
		t.Run(tc.name, func(t *testing.T) {
			s := record("t.Wrap", field("v", tc.schema))
			c, err := NewCodec(s)
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := avro.ParseWithCache(c.AvroJSON(), "", &avro.SchemaCache{})
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range tc.values {
				body := mustAppend(t, c, event.Row{v})
				var got any
				if err := hambaAPI.Unmarshal(parsed, body, &got); err != nil {
					t.Fatalf("hamba cannot read %s: %v", short(v), err)
				}
				want := map[string]any{"v": hambaForm(tc.schema, v)}
				if g, w := render(got), render(want); g != w {
					t.Errorf("hamba read %.200s\nwant %.200s", g, w)
				}
			}
		})
	}
}

// hambaAPI allows the 1 MB values of the test cases.
var hambaAPI = avro.Config{MaxByteSliceSize: 4 << 20}.Freeze()

func short(v any) string {
	s := fmt.Sprint(v)
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

// hambaForm is how hamba's generic decoder represents v of schema s: it
// unwraps optional primitives and arrays, but keeps an optional record as a
// map from the record's name to its value.
func hambaForm(s *event.Schema, v any) any {
	if v == nil {
		return nil
	}
	if s.Optional {
		inner := *s
		inner.Optional = false
		if s.Type != event.Struct {
			return hambaForm(&inner, v)
		}
		return map[string]any{hambaTypeName(s): hambaForm(&inner, v)}
	}
	switch s.Type {
	case event.Int8, event.Int16, event.Int32:
		i, _ := intValue(s.Type, v)
		switch logicalType(s) {
		case "date":
			return time.Unix(i*86400, 0).UTC()
		case "time-millis":
			return time.Duration(i) * time.Millisecond
		}
		return int(i)
	case event.Int64:
		if logicalType(s) == "timestamp-millis" {
			return time.UnixMilli(v.(int64)).UTC()
		}
	case event.Bytes:
		if d, ok := v.(event.Decimal); ok {
			return new(big.Rat).SetFrac(d.Unscaled, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d.Scale)), nil))
		}
	case event.Array:
		out := []any{}
		for _, e := range v.([]any) {
			out = append(out, hambaForm(s.Elem, e))
		}
		return out
	case event.Struct:
		if d, ok := v.(event.Decimal); ok {
			return map[string]any{"scale": int(d.Scale), "value": appendUnscaled(nil, d.Unscaled)}
		}
		out := map[string]any{}
		for i, f := range s.Fields {
			out[f.Name] = hambaForm(f.Schema, v.([]any)[i])
		}
		return out
	}
	return v
}

func hambaTypeName(s *event.Schema) string {
	if s.Name == "" {
		return "io.confluent.connect.avro.ConnectDefault"
	}
	return AvroName(s.Name)
}

// render prints a generic value with its types, maps in key order.
func render(v any) string {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var b strings.Builder
		b.WriteString("{")
		for _, k := range keys {
			fmt.Fprintf(&b, "%s:%s ", k, render(x[k]))
		}
		return b.String() + "}"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = render(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case *big.Rat:
		return "rat(" + x.RatString() + ")"
	case []byte:
		return fmt.Sprintf("bytes(%x)", x)
	}
	return fmt.Sprintf("%T(%v)", v, v)
}

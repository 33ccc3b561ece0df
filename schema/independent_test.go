package schema

import (
	"fmt"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/avro"

	"github.com/sluice-cdc/sluice/schema/event"
)

// TestIndependentDecoderAgrees decodes what Codec wrote with twmb/avro's
// generic decoder (Decode into any, from the parsed JSON schema) and checks
// it sees the same values: an independent reading of our bytes.
func TestIndependentDecoderAgrees(t *testing.T) {
	for _, tc := range valueCases() {
		t.Run(tc.name, func(t *testing.T) {
			s := record("t.Wrap", field("v", tc.schema))
			c, err := NewCodec(s)
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := avro.Parse(c.AvroJSON())
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range tc.values {
				body := mustAppend(t, c, event.Row{v})
				var got any
				if _, err := parsed.Decode(body, &got); err != nil {
					t.Fatalf("twmb/avro cannot read %s: %v", short(v), err)
				}
				want := map[string]any{"v": genericForm(tc.schema, v)}
				if g, w := render(got), render(want); g != w {
					t.Errorf("twmb/avro read %.200s\nwant %.200s", g, w)
				}
			}
		})
	}
}

func short(v any) string {
	s := fmt.Sprint(v)
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

// genericForm is how twmb/avro's generic decoder represents v of schema s:
// an optional value as the value of its branch.
func genericForm(s *event.Schema, v any) any {
	if v == nil {
		return nil
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
		return int32(i)
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
			out = append(out, genericForm(s.Elem, e))
		}
		return out
	case event.Struct:
		if d, ok := v.(event.Decimal); ok {
			return map[string]any{"scale": d.Scale, "value": appendUnscaled(nil, d.Unscaled)}
		}
		out := map[string]any{}
		for i, f := range s.Fields {
			out[f.Name] = genericForm(f.Schema, v.([]any)[i])
		}
		return out
	}
	return v
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

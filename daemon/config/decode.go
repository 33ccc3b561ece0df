package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// decodeStrict decodes a JSON object into the struct v points to, reporting
// every unknown key and every value of the wrong type with its path.
func decodeStrict(data []byte, v any) Problems {
	var raw any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return Problems{{Message: "invalid JSON: " + err.Error()}}
	}
	if dec.More() {
		return Problems{{Message: "invalid JSON: more than one value"}}
	}
	var ps Problems
	decodeValue("", raw, reflect.ValueOf(v).Elem(), &ps)
	return ps
}

func decodeValue(path string, raw any, v reflect.Value, ps *Problems) {
	bad := func(want string) {
		*ps = append(*ps, Problem{Key: path, Message: fmt.Sprintf("must be %s, not %s", want, jsonKind(raw))})
	}
	switch v.Kind() {
	case reflect.Pointer:
		if raw == nil {
			return
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		decodeValue(path, raw, v.Elem(), ps)
	case reflect.Struct:
		obj, ok := raw.(map[string]any)
		if !ok {
			bad("an object")
			return
		}
		decodeObject(path, obj, v, ps)
	case reflect.String:
		s, ok := raw.(string)
		if !ok {
			bad("a string")
			return
		}
		v.SetString(s)
	case reflect.Int:
		n, ok := raw.(json.Number)
		i, err := strconv.ParseInt(string(n), 10, 64)
		if !ok || err != nil {
			bad("an integer")
			return
		}
		v.SetInt(i)
	case reflect.Bool:
		b, ok := raw.(bool)
		if !ok {
			bad("a boolean")
			return
		}
		v.SetBool(b)
	case reflect.Slice:
		items, ok := raw.([]any)
		if !ok {
			bad("an array of strings")
			return
		}
		out := make([]string, 0, len(items))
		for i, item := range items {
			s, ok := item.(string)
			if !ok {
				*ps = append(*ps, Problem{Key: fmt.Sprintf("%s[%d]", path, i), Message: "must be a string, not " + jsonKind(item)})
				continue
			}
			out = append(out, s)
		}
		v.Set(reflect.ValueOf(out))
	}
}

func decodeObject(path string, obj map[string]any, v reflect.Value, ps *Problems) {
	fields := map[string]int{}
	for i := 0; i < v.NumField(); i++ {
		if k := keyOf(v.Type().Field(i)); k != "" {
			fields[k] = i
		}
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p := k
		if path != "" {
			p = path + "." + k
		}
		i, ok := fields[k]
		if !ok {
			*ps = append(*ps, Problem{Key: p, Message: "unknown setting"})
			continue
		}
		decodeValue(p, obj[k], v.Field(i), ps)
	}
}

// jsonKind names the JSON type of a decoded value.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	default:
		return "an object"
	}
}

// applyEnv sets every setting whose SLUICE_* variable is present in environ
// (KEY=VALUE lines), creating optional groups on the way, and returns the
// problems (named by variable) and the SLUICE_* variables that match no
// setting. Variables starting SLUICE_TEST_ belong to tests and are skipped.
func applyEnv(d *Daemon, environ []string) (Problems, []string) {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "SLUICE_") {
			env[k] = v
		}
	}
	var ps Problems
	root := reflect.ValueOf(d).Elem()
	walkFields(root.Type(), "", func(path string, f reflect.StructField, index []int) {
		name := envName(path)
		val, ok := env[name]
		delete(env, name)
		if !ok {
			return
		}
		v := root
		for _, i := range index {
			if v.Kind() == reflect.Pointer {
				if v.IsNil() {
					v.Set(reflect.New(v.Type().Elem()))
				}
				v = v.Elem()
			}
			v = v.Field(i)
		}
		if msg := setFromText(v, val); msg != "" {
			ps = append(ps, Problem{File: "environment", Key: name, Message: msg})
		}
	})
	var unknown []string
	for k := range env {
		if !strings.HasPrefix(k, "SLUICE_TEST_") && !strings.HasPrefix(k, "SLUICE_TESTENV_") {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	return ps, unknown
}

// setFromText sets a leaf value from its text form, returning a message on
// failure.
func setFromText(v reflect.Value, s string) string {
	switch v.Kind() {
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		if msg := setFromText(p.Elem(), s); msg != "" {
			return msg
		}
		v.Set(p)
	case reflect.String:
		v.SetString(s)
	case reflect.Int:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return fmt.Sprintf("invalid value %q: not an integer", s)
		}
		v.SetInt(n)
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.ToLower(strings.TrimSpace(s)))
		if err != nil {
			return fmt.Sprintf("invalid value %q: not a boolean (true or false)", s)
		}
		v.SetBool(b)
	case reflect.Slice:
		var items []string
		for _, item := range strings.Split(s, ",") {
			if item = strings.TrimSpace(item); item != "" {
				items = append(items, item)
			}
		}
		v.Set(reflect.ValueOf(items))
	}
	return ""
}

// applyDefaults gives every empty setting of a present group its default.
func applyDefaults(v reflect.Value) {
	for i := 0; i < v.NumField(); i++ {
		f, fv := v.Type().Field(i), v.Field(i)
		if keyOf(f) == "" {
			continue
		}
		if _, ok := group(f.Type); ok {
			if fv.Kind() == reflect.Pointer {
				if fv.IsNil() {
					continue
				}
				fv = fv.Elem()
			}
			applyDefaults(fv)
			continue
		}
		def := f.Tag.Get("default")
		if def == "" || !fv.IsZero() {
			continue
		}
		setFromText(fv, def)
	}
}

package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode"
)

// Connector is one connector definition, from a connector file or a REST
// request.
type Connector struct {
	Name string
	// Config holds the values as written, normalized to strings, without
	// "name"; ${...} references are kept as written.
	Config map[string]string
	// InitialState is RUNNING, PAUSED, STOPPED, or empty for RUNNING.
	InitialState string
	// File is the connector file it comes from; empty for the REST API.
	File string
}

// connectorFile is the JSON shape of a connector file and of POST /connectors.
type connectorFile struct {
	Name         *string         `json:"name"`
	Config       json.RawMessage `json:"config"`
	InitialState *string         `json:"initial_state"`
}

// ParseConnector decodes a {"name", "config", "initial_state"?} document,
// strictly. file names the source in problems (empty for a REST body).
func ParseConnector(data []byte, file string) (Connector, Problems) {
	var doc connectorFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return Connector{}, Problems{{File: file, Message: "invalid connector JSON: " + jsonError(err)}}
	}
	if dec.More() {
		return Connector{}, Problems{{File: file, Message: "invalid connector JSON: more than one value"}}
	}
	c := Connector{File: file}
	var ps Problems
	if doc.Name == nil {
		ps = append(ps, Problem{Key: "name", Message: "missing: a connector needs a name"})
	} else {
		c.Name = strings.TrimSpace(*doc.Name)
	}
	if len(doc.Config) == 0 || string(doc.Config) == "null" {
		ps = append(ps, Problem{Key: "config", Message: "missing: a connector needs a config object"})
	} else {
		cfg, cps := DecodeValues(doc.Config)
		c.Config = cfg
		ps = append(ps, cps...)
	}
	if doc.InitialState != nil {
		c.InitialState = strings.ToUpper(strings.TrimSpace(*doc.InitialState))
		switch c.InitialState {
		case "RUNNING", "PAUSED", "STOPPED":
		default:
			ps = append(ps, Problem{Key: "initial_state", Message: fmt.Sprintf("invalid value %q: must be RUNNING, PAUSED or STOPPED", *doc.InitialState)})
		}
	}
	if doc.Name != nil {
		ps = append(ps, CheckName(c.Name)...)
	}
	if c.Name != "" {
		ps = append(ps, c.takeName()...)
	}
	return c, ps.in(file, c.Name)
}

// takeName removes a "name" key from the config, which Kafka Connect allows
// when it equals the connector's name.
func (c *Connector) takeName() Problems {
	n, ok := c.Config["name"]
	if !ok {
		return nil
	}
	delete(c.Config, "name")
	if n != c.Name {
		return Problems{{Key: "name", Message: fmt.Sprintf("the config's name %q does not match the connector's name %q", n, c.Name)}}
	}
	return nil
}

// WithName checks a config's optional "name" key against name and removes
// it, as Kafka Connect does for PUT /connectors/{name}/config.
func WithName(name string, cfg map[string]string) (Connector, Problems) {
	c := Connector{Name: name, Config: cfg}
	ps := append(CheckName(name), c.takeName()...)
	return c, ps.in("", name)
}

// CheckName validates a connector name: not empty, at most 249 characters,
// no '/' and no control characters (names appear in URL paths and logs).
func CheckName(name string) Problems {
	switch {
	case strings.TrimSpace(name) == "":
		return Problems{{Key: "name", Message: "must not be empty"}}
	case len(name) > 249:
		return Problems{{Key: "name", Message: "must be at most 249 characters"}}
	case strings.Contains(name, "/"):
		return Problems{{Key: "name", Message: "must not contain '/'"}}
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return Problems{{Key: "name", Message: "must not contain control characters"}}
	}
	return nil
}

// DecodeValues decodes a JSON object of config values: strings are kept,
// numbers and booleans become their JSON text ("200", "false"); null,
// objects and arrays are problems naming the key.
func DecodeValues(data []byte) (map[string]string, Problems) {
	patch, ps := decodeConfigObject(data)
	out := make(map[string]string, len(patch))
	for k, v := range patch {
		if v == nil {
			ps = append(ps, Problem{Key: k, Message: "must be a string, number or boolean, not null"})
			continue
		}
		out[k] = *v
	}
	sortProblems(ps)
	return out, ps
}

// DecodePatch decodes a JSON object of config changes for PATCH: like
// DecodeValues, but null is kept (as a nil value) and means "remove the key".
func DecodePatch(data []byte) (map[string]*string, Problems) {
	out, ps := decodeConfigObject(data)
	sortProblems(ps)
	return out, ps
}

func decodeConfigObject(data []byte) (map[string]*string, Problems) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, Problems{{Message: "the config must be an object of string values, not a JSON " + te.Value}}
		}
		return nil, Problems{{Message: "invalid JSON: the config must be an object of string values: " + jsonError(err)}}
	}
	if raw == nil {
		return nil, Problems{{Message: "the config must be an object of string values, not null"}}
	}
	out := make(map[string]*string, len(raw))
	var ps Problems
	for k, v := range raw {
		v = bytes.TrimSpace(v)
		switch {
		case string(v) == "null":
			out[k] = nil
		case v[0] == '"':
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				ps = append(ps, Problem{Key: k, Message: "invalid string: " + err.Error()})
				continue
			}
			out[k] = &s
		case v[0] == '{':
			ps = append(ps, Problem{Key: k, Message: "must be a string, number or boolean, not an object"})
		case v[0] == '[':
			ps = append(ps, Problem{Key: k, Message: "must be a string, number or boolean, not an array"})
		default: // number, true or false: their JSON text is their value
			s := string(v)
			out[k] = &s
		}
	}
	return out, ps
}

func sortProblems(ps Problems) {
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Key < ps[j].Key })
}

// jsonError words a decoding error for a person: unknown fields are named
// as keys.
func jsonError(err error) string {
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return "unknown key " + f + " (a connector has name, config and initial_state)"
	}
	return strings.TrimPrefix(msg, "json: ")
}

// LoadDir reads every *.json file of dir, sorted by file name, as a
// connector definition, and checks that no name is defined twice. It
// returns the connectors it could read and every problem found.
func LoadDir(dir string) ([]Connector, Problems) {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, Problems{{File: dir, Message: err.Error()}}
	}
	if _, err := os.Stat(dir); err != nil {
		return nil, Problems{{File: dir, Message: "cannot read the connectors directory: " + err.Error()}}
	}
	sort.Strings(files)
	var out []Connector
	var ps Problems
	seen := map[string]string{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			ps = append(ps, Problem{File: f, Message: "cannot read: " + err.Error()})
			continue
		}
		c, cps := ParseConnector(data, f)
		ps = append(ps, cps...)
		if len(cps) > 0 {
			continue
		}
		if other, dup := seen[c.Name]; dup {
			ps = append(ps, Problem{File: f, Connector: c.Name, Key: "name", Message: "defined twice: also in " + other})
			continue
		}
		seen[c.Name] = f
		out = append(out, c)
	}
	return out, ps
}

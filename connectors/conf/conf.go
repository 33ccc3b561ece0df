// Package conf declares connector configuration keys once — name, type,
// default, allowed values, documentation — and parses Kafka Connect style
// string maps against those declarations strictly: an unknown key, a value of
// the wrong type or a missing required key is a Problem that names the key.
//
// The same declarations feed decoding, validation, the REST API's
// config/validate answer and the documentation.
package conf

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Type is the type of a key's value. Values always arrive as strings, as in
// Kafka Connect; the type says how they are parsed and shown.
type Type string

// The key types, named as Kafka Connect's ConfigDef names them.
const (
	String   Type = "STRING"
	Int      Type = "INT"
	Long     Type = "LONG"
	Boolean  Type = "BOOLEAN"
	Double   Type = "DOUBLE"
	List     Type = "LIST" // comma-separated, blanks trimmed
	Password Type = "PASSWORD"
	Class    Type = "CLASS"
)

// Key declares one configuration key.
type Key struct {
	Name string
	Type Type
	// Default is used when the key is absent; empty means no default.
	Default string
	// Required keys must be present and non-empty.
	Required bool
	// Allowed, when set, is the closed set of values (compared case-insensitively).
	Allowed []string
	// Min and Max bound Int and Long values when Max > Min.
	Min, Max int64
	// Check, when set, validates the raw value beyond its type.
	Check func(v string) error
	// Deprecated, when set, is the warning logged when the key is present;
	// the key is accepted.
	Deprecated string
	// Ignored, when set, says why the key has no effect in sluice (a
	// Debezium or Kafka Connect key whose job is done otherwise, or not
	// needed): the key is accepted so existing configurations load, and the
	// reason is a warning when it is given.
	Ignored string
	// Unsupported, when set, says what to do instead of a behaviour sluice
	// does not have: the key is refused with it unless its value is Default
	// (the behaviour sluice has), so pasted configurations that spell out a
	// default still load.
	Unsupported string
	// Pattern, when set, makes the key a family: every name it matches is
	// this key, and Name is the family's name as documentation shows it
	// (for example "column.mask.with.<n>.chars").
	Pattern *regexp.Regexp
	Doc     string
	Group   string
}

// Spec is the set of keys a connector class accepts.
type Spec struct {
	Keys []Key
	// Prefixes are families of keys accepted by another layer (for example
	// "transforms." handled by the transform chain); their keys are kept as
	// given and not checked here.
	Prefixes []string
}

// Problem is one thing wrong with a configuration, tied to its key.
type Problem struct {
	Key     string
	Message string
}

func (p Problem) Error() string { return p.Key + ": " + p.Message }

// Problems is every problem found in a configuration.
type Problems []Problem

func (ps Problems) Error() string {
	msgs := make([]string, len(ps))
	for i, p := range ps {
		msgs[i] = p.Error()
	}
	return strings.Join(msgs, "; ")
}

// Config is a parsed configuration: every declared key has a value (given or
// default), every value has been checked against its type.
type Config struct {
	values   map[string]string
	given    map[string]bool
	warnings []Problem
}

// Lookup returns the declared key called name, or the family whose
// Pattern matches it.
func (s *Spec) Lookup(name string) (Key, bool) {
	for _, k := range s.Keys {
		if k.Name == name && k.Pattern == nil {
			return k, true
		}
	}
	for _, k := range s.Keys {
		if k.Pattern != nil && k.Pattern.MatchString(name) {
			return k, true
		}
	}
	return Key{}, false
}

func (s *Spec) prefixed(name string) bool {
	for _, p := range s.Prefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// unknown is the problem of an unknown key: it names the declared key the
// name is probably a typo of, when one is close enough.
func (s *Spec) unknown(name string) string {
	const msg = "unknown configuration key"
	// Up to one edit in five characters, two at most: close enough to be a
	// typo, far enough not to suggest an unrelated key.
	limit := min(2, len(name)/5)
	best, bestDist := "", limit+1
	for _, k := range s.Keys {
		if k.Pattern != nil {
			continue
		}
		if d := editDistance(name, k.Name); d < bestDist {
			best, bestDist = k.Name, d
		}
	}
	if best == "" {
		return msg
	}
	return msg + "; did you mean " + best + "?"
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev, cur := make([]int, len(b)+1), make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Parse checks raw against the spec and returns the parsed configuration, or
// every problem found. Unknown keys are problems, never silently ignored.
func (s *Spec) Parse(raw map[string]string) (*Config, error) {
	c := &Config{values: make(map[string]string, len(s.Keys)), given: make(map[string]bool, len(raw))}
	var problems Problems
	names := make([]string, 0, len(raw))
	for name := range raw {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		k, ok := s.Lookup(name)
		switch {
		case !ok && !s.prefixed(name):
			problems = append(problems, Problem{name, s.unknown(name)})
			continue
		case k.Pattern != nil:
			if err := k.check(raw[name]); err != nil {
				problems = append(problems, Problem{name, err.Error()})
			} else if k.Ignored != "" {
				c.warnings = append(c.warnings, Problem{name, "has no effect in sluice: " + k.Ignored})
			}
			continue
		}
		c.values[name] = raw[name]
		c.given[name] = true
	}
	for _, k := range s.Keys {
		if k.Pattern != nil {
			continue
		}
		v, ok := k.given(raw)
		if !ok {
			if k.Required {
				problems = append(problems, Problem{k.Name, "missing required configuration"})
				continue
			}
			c.values[k.Name] = k.Default
			c.given[k.Name] = false
			continue
		}
		if err := k.check(v); err != nil {
			problems = append(problems, Problem{k.Name, err.Error()})
			continue
		}
		switch {
		case k.Deprecated != "":
			c.warnings = append(c.warnings, Problem{k.Name, k.Deprecated})
		case k.Ignored != "":
			c.warnings = append(c.warnings, Problem{k.Name, "has no effect in sluice: " + k.Ignored})
		}
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return c, nil
}

// given is the value raw gives the key, unless it gives none: the key is
// absent, or blank where a blank value means absent (any type but String
// and Password).
func (k Key) given(raw map[string]string) (string, bool) {
	v, ok := raw[k.Name]
	if !ok || (strings.TrimSpace(v) == "" && k.Type != String && k.Type != Password) {
		return "", false
	}
	return v, true
}

// Value is the value raw gives the declared key name, or the key's default
// when raw gives none, with blanks trimmed; ok is false when the spec does
// not declare the key or the value is not valid for it. It checks that one
// key only, for a caller that needs it before the whole configuration is
// parsed.
func (s *Spec) Value(raw map[string]string, name string) (v string, ok bool) {
	k, declared := s.Lookup(name)
	if !declared || k.Pattern != nil {
		return "", false
	}
	v, given := k.given(raw)
	if !given {
		v = k.Default
	}
	if k.check(v) != nil {
		return "", false
	}
	return strings.TrimSpace(v), true
}

// Inherit returns c with the keys of defaults that s declares and c does
// not set, parsed again (c itself when there are none): how a connector
// takes the settings the daemon gives every connector, such as Kafka
// Connect's worker-level key.converter and value.converter.
func (s *Spec) Inherit(c *Config, defaults map[string]string) (*Config, error) {
	raw := c.Raw()
	inherited := false
	for name, v := range defaults {
		if _, set := raw[name]; set {
			continue
		}
		if k, ok := s.Lookup(name); ok && k.Pattern == nil {
			raw[name], inherited = v, true
		}
	}
	if !inherited {
		return c, nil
	}
	return s.Parse(raw)
}

// Check validates one value of the key, returning an error that does not
// repeat the key's name.
func (k Key) check(v string) error {
	if k.Required && strings.TrimSpace(v) == "" {
		return fmt.Errorf("missing required configuration")
	}
	switch k.Type {
	case Int, Long:
		bits := 64
		if k.Type == Int {
			bits = 32
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, bits)
		if err != nil {
			return fmt.Errorf("invalid value %q: not an integer", v)
		}
		if k.Max > k.Min && (n < k.Min || n > k.Max) {
			return fmt.Errorf("invalid value %d: must be between %d and %d", n, k.Min, k.Max)
		}
	case Boolean:
		if _, err := strconv.ParseBool(strings.ToLower(strings.TrimSpace(v))); err != nil {
			return fmt.Errorf("invalid value %q: not a boolean (true or false)", v)
		}
	case Double:
		if _, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil {
			return fmt.Errorf("invalid value %q: not a number", v)
		}
	}
	if len(k.Allowed) > 0 && !slices.ContainsFunc(k.Allowed, func(a string) bool { return strings.EqualFold(a, strings.TrimSpace(v)) }) {
		return fmt.Errorf("invalid value %q: must be one of %s", v, strings.Join(k.Allowed, ", "))
	}
	if k.Check != nil {
		if err := k.Check(v); err != nil {
			return err
		}
	}
	if k.Unsupported != "" && !strings.EqualFold(strings.TrimSpace(v), k.Default) {
		if k.Default == "" {
			return fmt.Errorf("not supported by sluice: %s", k.Unsupported)
		}
		return fmt.Errorf("not supported by sluice (only %q is): %s", k.Default, k.Unsupported)
	}
	return nil
}

// Warnings are the deprecation notices for keys that were given.
func (c *Config) Warnings() []Problem { return c.warnings }

// Given reports whether the key was present in the raw configuration.
func (c *Config) Given(name string) bool { return c.given[name] }

// String returns the key's value (trimmed), or its default.
func (c *Config) String(name string) string { return strings.TrimSpace(c.values[name]) }

// Enum returns the key's value lower-cased, for keys with Allowed values.
func (c *Config) Enum(name string) string { return strings.ToLower(c.String(name)) }

// Int returns an Int or Long key's value; Parse has checked it.
func (c *Config) Int(name string) int64 {
	n, _ := strconv.ParseInt(c.String(name), 10, 64)
	return n
}

// Bool returns a Boolean key's value; Parse has checked it.
func (c *Config) Bool(name string) bool {
	b, _ := strconv.ParseBool(strings.ToLower(c.String(name)))
	return b
}

// List returns a List key's items, trimmed, without empty items.
func (c *Config) List(name string) []string { return SplitList(c.values[name]) }

// Raw returns every given key with its value as given, including prefixed
// keys handled by other layers.
func (c *Config) Raw() map[string]string {
	out := make(map[string]string, len(c.given))
	for k, given := range c.given {
		if given {
			out[k] = c.values[k]
		}
	}
	return out
}

// SplitList splits a comma-separated list, trimming blanks and dropping empty items.
func SplitList(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// RegexList is a Check for comma-separated lists of regular expressions.
func RegexList(v string) error {
	for _, item := range SplitList(v) {
		if _, err := regexp.Compile(item); err != nil {
			return fmt.Errorf("invalid regular expression %q: %v", item, err)
		}
	}
	return nil
}

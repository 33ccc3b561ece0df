package config

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strconv"
	"strings"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/transforms"
)

// Checked is a connector definition that passed every check.
type Checked struct {
	Class *connectors.Class
	// Config is parsed from the resolved values: it holds secrets and must
	// not be shown.
	Config *conf.Config
}

// overridePrefixes are the families of Kafka client settings a connector
// config could override. Only the keys a class declares in its Spec are
// allowed: arbitrary client overrides have been used for remote code
// execution in Kafka Connect (for example through sasl.jaas.config).
var overridePrefixes = []string{"producer.override.", "consumer.override.", "admin.override."}

// ClassOf returns the class a config names in connector.class, or nil.
func ClassOf(cfg map[string]string) *connectors.Class {
	c, _ := connectors.Lookup(cfg["connector.class"])
	return c
}

// EveryInstance reports whether a connector runs on every instance of a
// cluster rather than on the one the group assigns it to
// (connectors.Class EveryInstance).
func EveryInstance(cfg map[string]string) bool {
	c := ClassOf(cfg)
	return c != nil && c.EveryInstance
}

// Tasks is how many tasks a connector runs: what its tasks.max says for a
// class whose connectors split their work over tasks (connectors.Class
// Tasks), else 1. A tasks.max its class refuses counts as 1: the connector
// fails on its configuration anyway.
func Tasks(cfg map[string]string) int {
	class := ClassOf(cfg)
	if class == nil || !class.Tasks {
		return 1
	}
	v, ok := class.Spec.Value(cfg, "tasks.max")
	if !ok {
		return 1
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 1
	}
	return max(n, 1)
}

// Check validates a connector definition completely and returns every
// problem, each naming the key (and the file and connector): the name; the
// class; Kafka client overrides; references, resolved through r; every key
// against the class's Spec; the transform chain's keys (transforms.Build);
// and finally what the class itself checks when it builds a
// source (which must not connect to anything). Messages never contain a
// resolved secret: a resolved value is shown as its reference.
func Check(c Connector, r *Resolver) (*Checked, Problems) {
	ps := CheckName(c.Name)
	class, cps := checkClass(c.Config)
	ps = append(ps, cps...)
	if class == nil {
		return nil, ps.in(c.File, c.Name)
	}
	raw := make(map[string]string, len(c.Config))
	for k, v := range c.Config {
		raw[k] = v
	}
	ps = append(ps, checkOverrides(class, raw)...)

	resolved := make(map[string]string, len(raw))
	var pairs []string // resolved value, then its reference
	for k, v := range raw {
		if !HasReference(v) {
			resolved[k] = v
			continue
		}
		val, err := r.Resolve(v)
		if err != nil {
			ps = append(ps, Problem{Key: k, Message: err.Error()})
			continue
		}
		resolved[k] = val
		if val != "" {
			pairs = append(pairs, val, v)
		}
	}
	redact := strings.NewReplacer(pairs...)
	// The spec checks every key, even when others have problems already;
	// a key reported above is not reported again.
	reported := map[string]bool{}
	for _, p := range ps {
		reported[p.Key] = true
	}
	cfg, err := class.Spec.Parse(resolved)
	if _, tps := transforms.Build(resolved); tps != nil {
		err = errors.Join(err, tps)
	}
	for _, p := range fromErrors(err, redact) {
		if !reported[p.Key] {
			ps = append(ps, p)
		}
	}
	if len(ps) == 0 && class.Kind == connectors.KindSource && class.NewSource != nil {
		_, err = class.NewSource(cfg, connectors.Env{Name: c.Name, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		ps = append(ps, fromError(err, redact)...)
	}
	if len(ps) > 0 {
		sortProblems(ps)
		return nil, ps.in(c.File, c.Name)
	}
	return &Checked{Class: class, Config: cfg}, nil
}

func checkClass(cfg map[string]string) (*connectors.Class, Problems) {
	name, ok := cfg["connector.class"]
	if !ok || strings.TrimSpace(name) == "" {
		return nil, Problems{{Key: "connector.class", Message: "missing required configuration"}}
	}
	class, ok := connectors.Lookup(name)
	if !ok {
		var known []string
		for _, c := range connectors.Classes() {
			known = append(known, c.Name)
		}
		return nil, Problems{{Key: "connector.class", Message: fmt.Sprintf("unknown connector class %q; this build has: %s", name, strings.Join(known, ", "))}}
	}
	return class, nil
}

// checkOverrides reports Kafka client overrides the class does not declare,
// and removes them from raw so they are not reported twice.
func checkOverrides(class *connectors.Class, raw map[string]string) Problems {
	var allowed []string
	for _, k := range class.Spec.Keys {
		if hasAnyPrefix(k.Name, overridePrefixes) {
			allowed = append(allowed, k.Name)
		}
	}
	list := "none"
	if len(allowed) > 0 {
		list = strings.Join(allowed, ", ")
	}
	var ps Problems
	for k := range raw {
		if !hasAnyPrefix(k, overridePrefixes) {
			continue
		}
		if _, ok := class.Spec.Lookup(k); ok {
			continue
		}
		ps = append(ps, Problem{Key: k, Message: fmt.Sprintf("Kafka client override not allowed; connector class %s allows: %s", class.Name, list)})
		delete(raw, k)
	}
	return ps
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// fromErrors turns errors joined with errors.Join into problems, each as
// fromError does.
func fromErrors(err error, redact *strings.Replacer) Problems {
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return fromError(err, redact)
	}
	var ps Problems
	for _, e := range joined.Unwrap() {
		ps = append(ps, fromError(e, redact)...)
	}
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Key < ps[j].Key })
	return ps
}

// fromError turns a class's error into problems, keyed when it is
// conf.Problems; nil gives none.
func fromError(err error, redact *strings.Replacer) Problems {
	if err == nil {
		return nil
	}
	var cps conf.Problems
	if !errors.As(err, &cps) {
		return Problems{{Message: redact.Replace(err.Error())}}
	}
	ps := make(Problems, 0, len(cps))
	for _, p := range cps {
		ps = append(ps, Problem{Key: p.Key, Message: redact.Replace(p.Message)})
	}
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Key < ps[j].Key })
	return ps
}

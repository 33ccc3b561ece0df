package transforms

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/schema/record"
)

// Chain is the transforms of one connector, in the order "transforms"
// lists them, each with its predicate. It satisfies connectors.Stage. A
// Chain is called from one goroutine at a time.
type Chain struct {
	steps []step
}

type step struct {
	name      string
	transform Transform
	predicate Predicate // nil: always applies
	negate    bool
}

// Apply runs r through every transform whose predicate holds (or fails,
// with negate), stopping when one drops the record (then it returns nil).
func (c *Chain) Apply(r *record.Record) (*record.Record, error) {
	for _, s := range c.steps {
		if s.predicate != nil && s.predicate.Test(r) == s.negate {
			continue
		}
		out, err := s.transform.Apply(r)
		if err != nil {
			return nil, fmt.Errorf("transform %s: %w", s.name, err)
		}
		if out == nil {
			return nil, nil
		}
		r = out
	}
	return r, nil
}

var aliasRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// Build returns the chain a connector configuration's transforms.* and
// predicates.* keys describe — nil when "transforms" is absent or empty —
// or every problem found, each naming its full key. Keys of other families
// are ignored: the connector's own spec checks them.
func Build(raw map[string]string) (*Chain, conf.Problems) {
	var problems conf.Problems
	add := func(key, format string, args ...any) {
		problems = append(problems, conf.Problem{Key: key, Message: fmt.Sprintf(format, args...)})
	}
	aliases := func(key string) []string {
		names := conf.SplitList(raw[key])
		seen := map[string]bool{}
		for _, n := range names {
			if !aliasRE.MatchString(n) {
				add(key, "invalid name %q: use letters, digits, '_' and '-'", n)
			} else if seen[n] {
				add(key, "%q is listed twice", n)
			}
			seen[n] = true
		}
		return names
	}
	transformNames, predicateAliases := aliases("transforms"), aliases("predicates")
	problems = append(problems, unlisted(raw, "transforms", transformNames)...)
	problems = append(problems, unlisted(raw, "predicates", predicateAliases)...)

	preds := map[string]Predicate{}
	for _, name := range predicateAliases {
		prefix := "predicates." + name + "."
		pt, ok := lookupPredicate(raw[prefix+"type"])
		switch {
		case strings.TrimSpace(raw[prefix+"type"]) == "":
			add(prefix+"type", "missing required configuration")
			continue
		case !ok:
			add(prefix+"type", "unknown predicate %q; this build has: %s", raw[prefix+"type"], predicateNames())
			continue
		}
		cfg, ps := parseOwn(pt.Spec, raw, prefix, "type")
		if len(ps) > 0 {
			problems = append(problems, ps...)
			continue
		}
		p, err := pt.New(cfg)
		if err != nil {
			problems = append(problems, prefixed(prefix, err)...)
			continue
		}
		preds[name] = p
	}

	chain := &Chain{}
	for _, name := range transformNames {
		prefix := "transforms." + name + "."
		tt, ok := lookupType(raw[prefix+"type"])
		switch {
		case strings.TrimSpace(raw[prefix+"type"]) == "":
			add(prefix+"type", "missing required configuration")
			continue
		case !ok:
			add(prefix+"type", "unknown transform %q; this build has: %s", raw[prefix+"type"], typeNames())
			continue
		}
		s := step{name: name}
		if p := strings.TrimSpace(raw[prefix+"predicate"]); p != "" {
			if s.predicate = preds[p]; s.predicate == nil && !contains(predicateAliases, p) {
				add(prefix+"predicate", "predicate %q is not listed in predicates", p)
			}
		}
		if v, ok := raw[prefix+"negate"]; ok {
			b, err := strconv.ParseBool(strings.ToLower(strings.TrimSpace(v)))
			if err != nil {
				add(prefix+"negate", "invalid value %q: not a boolean (true or false)", v)
			}
			s.negate = b
		}
		cfg, ps := parseOwn(tt.Spec, raw, prefix, "type", "predicate", "negate")
		if len(ps) > 0 {
			problems = append(problems, ps...)
			continue
		}
		t, err := tt.New(cfg)
		if err != nil {
			problems = append(problems, prefixed(prefix, err)...)
			continue
		}
		s.transform = t
		chain.steps = append(chain.steps, s)
	}
	if len(problems) > 0 {
		sort.SliceStable(problems, func(i, j int) bool { return problems[i].Key < problems[j].Key })
		return nil, problems
	}
	if len(chain.steps) == 0 {
		return nil, nil
	}
	return chain, nil
}

// parseOwn parses the keys under prefix, but for the chain's own, against spec.
func parseOwn(spec *conf.Spec, raw map[string]string, prefix string, chainKeys ...string) (*conf.Config, conf.Problems) {
	own := map[string]string{}
	for k, v := range raw {
		if rest, ok := strings.CutPrefix(k, prefix); ok && !contains(chainKeys, rest) {
			own[rest] = v
		}
	}
	cfg, err := spec.Parse(own)
	if err != nil {
		return nil, prefixed(prefix, err)
	}
	return cfg, nil
}

// prefixed turns a transform's problems (or error) into the connector's,
// naming the full keys.
func prefixed(prefix string, err error) conf.Problems {
	var ps conf.Problems
	if errors.As(err, &ps) {
		out := make(conf.Problems, len(ps))
		for i, p := range ps {
			out[i] = conf.Problem{Key: prefix + p.Key, Message: p.Message}
		}
		return out
	}
	return conf.Problems{{Key: strings.TrimSuffix(prefix, "."), Message: err.Error()}}
}

// unlisted reports keys of a family ("transforms.x.…") whose name the
// family's list does not hold: Kafka Connect would ignore them silently.
func unlisted(raw map[string]string, family string, listed []string) conf.Problems {
	var ps conf.Problems
	for k := range raw {
		rest, ok := strings.CutPrefix(k, family+".")
		if !ok {
			continue
		}
		name, _, _ := strings.Cut(rest, ".")
		if !contains(listed, name) {
			ps = append(ps, conf.Problem{Key: k, Message: fmt.Sprintf("%q is not listed in %s", name, family)})
		}
	}
	return ps
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

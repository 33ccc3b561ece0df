package transforms

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/schema/record"
)

// Transform rewrites one record. Apply returns nil to drop the record, and
// must not modify r: a transform that changes it returns a new record
// (record.Record.Clone, or a struct literal sharing what did not change).
// A transform is built once per chain and called from one goroutine at a
// time.
type Transform interface {
	Apply(r *record.Record) (*record.Record, error)
}

// Predicate decides whether a transform applies to a record.
type Predicate interface {
	Test(r *record.Record) bool
}

// Type is a kind of transform: its names, its keys and how to build one.
type Type struct {
	// Name is sluice's short name; Aliases are the Java class names
	// ("org.apache.kafka.connect.transforms.RegexRouter").
	Name    string
	Aliases []string
	Doc     string
	Spec    *conf.Spec
	New     func(cfg *conf.Config) (Transform, error)
}

// PredicateType is a kind of predicate, as Type is a kind of transform.
type PredicateType struct {
	Name    string
	Aliases []string
	Doc     string
	Spec    *conf.Spec
	New     func(cfg *conf.Config) (Predicate, error)
}

var (
	mu         sync.RWMutex
	types      = map[string]*Type{}
	predicates = map[string]*PredicateType{}
)

// Register makes a transform type known under its name and aliases. It is
// called from init functions; a name registered twice panics.
func Register(t Type) {
	mu.Lock()
	defer mu.Unlock()
	for _, n := range append([]string{t.Name}, t.Aliases...) {
		if _, dup := types[n]; dup {
			panic(fmt.Sprintf("transforms: %q registered twice", n))
		}
		types[n] = &t
	}
}

// RegisterPredicate makes a predicate type known under its name and aliases.
func RegisterPredicate(p PredicateType) {
	mu.Lock()
	defer mu.Unlock()
	for _, n := range append([]string{p.Name}, p.Aliases...) {
		if _, dup := predicates[n]; dup {
			panic(fmt.Sprintf("transforms: predicate %q registered twice", n))
		}
		predicates[n] = &p
	}
}

// Types lists every transform type once, sorted by name.
func Types() []*Type {
	mu.RLock()
	defer mu.RUnlock()
	return unique(types, func(t *Type) string { return t.Name })
}

// PredicateTypes lists every predicate type once, sorted by name.
func PredicateTypes() []*PredicateType {
	mu.RLock()
	defer mu.RUnlock()
	return unique(predicates, func(p *PredicateType) string { return p.Name })
}

func unique[T any](m map[string]*T, name func(*T) string) []*T {
	seen := map[*T]bool{}
	var out []*T
	for _, t := range m {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return name(out[i]) < name(out[j]) })
	return out
}

func lookupType(name string) (*Type, bool) {
	mu.RLock()
	defer mu.RUnlock()
	t, ok := types[strings.TrimSpace(name)]
	return t, ok
}

func lookupPredicate(name string) (*PredicateType, bool) {
	mu.RLock()
	defer mu.RUnlock()
	p, ok := predicates[strings.TrimSpace(name)]
	return p, ok
}

// typeNames lists the short names of the registered types, for messages.
func typeNames() string {
	var names []string
	for _, t := range Types() {
		names = append(names, t.Name)
	}
	return strings.Join(names, ", ")
}

func predicateNames() string {
	var names []string
	for _, p := range PredicateTypes() {
		names = append(names, p.Name)
	}
	return strings.Join(names, ", ")
}

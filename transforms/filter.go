package transforms

import (
	"regexp"

	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/schema/record"
)

func init() {
	Register(Type{
		Name:    "Filter",
		Aliases: []string{"org.apache.kafka.connect.transforms.Filter"},
		Doc:     "Drops every record it applies to; give it a predicate (with negate to keep only what matches).",
		Spec:    &conf.Spec{},
		New:     func(*conf.Config) (Transform, error) { return drop{}, nil },
	})
	RegisterPredicate(PredicateType{
		Name:    "TopicNameMatches",
		Aliases: []string{"org.apache.kafka.connect.transforms.predicates.TopicNameMatches"},
		Doc:     "True for records whose topic the regular expression matches whole.",
		Spec: &conf.Spec{Keys: []conf.Key{
			{Name: "pattern", Type: conf.String, Required: true, Check: checkRegex, Doc: "Regular expression matched against the whole topic name."},
		}},
		New: func(c *conf.Config) (Predicate, error) {
			return topicMatches{regexp.MustCompile("^(?:" + c.String("pattern") + ")$")}, nil
		},
	})
	RegisterPredicate(PredicateType{
		Name:    "RecordIsTombstone",
		Aliases: []string{"org.apache.kafka.connect.transforms.predicates.RecordIsTombstone"},
		Doc:     "True for tombstones: records whose value is null.",
		Spec:    &conf.Spec{},
		New:     func(*conf.Config) (Predicate, error) { return isTombstone{}, nil },
	})
	RegisterPredicate(PredicateType{
		Name:    "HasHeaderKey",
		Aliases: []string{"org.apache.kafka.connect.transforms.predicates.HasHeaderKey"},
		Doc:     "True for records with at least one header called name.",
		Spec: &conf.Spec{Keys: []conf.Key{
			{Name: "name", Type: conf.String, Required: true, Doc: "The header key."},
		}},
		New: func(c *conf.Config) (Predicate, error) { return hasHeader{c.String("name")}, nil },
	})
}

// drop is Kafka Connect's Filter.
type drop struct{}

func (drop) Apply(*record.Record) (*record.Record, error) { return nil, nil }

type topicMatches struct{ re *regexp.Regexp }

func (p topicMatches) Test(r *record.Record) bool { return p.re.MatchString(r.Topic) }

type isTombstone struct{}

func (isTombstone) Test(r *record.Record) bool { return r.Tombstone() }

type hasHeader struct{ name string }

func (p hasHeader) Test(r *record.Record) bool {
	_, ok := r.Header(p.name)
	return ok
}

package transforms

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/schema/record"
)

func init() {
	Register(Type{
		Name:    "RegexRouter",
		Aliases: []string{"org.apache.kafka.connect.transforms.RegexRouter"},
		Doc:     "Renames the topic of records whose topic the regular expression matches whole, as Kafka Connect's RegexRouter.",
		Spec: &conf.Spec{Keys: []conf.Key{
			{Name: "regex", Type: conf.String, Required: true, Check: checkRegex, Doc: "Regular expression matched against the whole topic name."},
			{Name: "replacement", Type: conf.String, Required: true, Doc: "The new topic name; $1, $2, … refer to the expression's groups, as in Java."},
		}},
		New: func(c *conf.Config) (Transform, error) {
			return &regexRouter{re: regexp.MustCompile("^(?:" + c.String("regex") + ")$"), template: javaReplacement(c.String("replacement")),
				routes: map[string]string{}}, nil
		},
	})
}

func checkRegex(v string) error {
	if _, err := regexp.Compile(v); err != nil {
		return fmt.Errorf("invalid regular expression %q: %v", v, err)
	}
	return nil
}

// regexRouter is Kafka Connect's RegexRouter. A record's new topic depends
// on its topic alone, and a connector writes to few topics: each topic's
// route is worked out once and remembered (up to maxRoutes topics), so the
// expression is not run for every record.
type regexRouter struct {
	re       *regexp.Regexp
	template string
	routes   map[string]string // topic → new topic; "" when the expression does not match
}

// maxRoutes bounds the routes a regexRouter remembers.
const maxRoutes = 4096

func (t *regexRouter) Apply(r *record.Record) (*record.Record, error) {
	to, ok := t.routes[r.Topic]
	if !ok {
		if m := t.re.FindStringSubmatchIndex(r.Topic); m != nil {
			to = string(t.re.ExpandString(nil, t.template, r.Topic, m))
		}
		if len(t.routes) < maxRoutes {
			t.routes[r.Topic] = to
		}
	}
	if to == "" {
		return r, nil
	}
	out := r.Clone()
	out.Topic = to
	return out, nil
}

// javaReplacement turns a java.util.regex replacement ("$1-copy", "\$",
// "${name}") into a Go template ("${1}-copy", "$$", "${name}"): in Java a
// group number ends at the first character that is not a digit, in Go a
// name runs on through letters and underscores.
func javaReplacement(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s):
			i++
			if s[i] == '$' {
				b.WriteString("$$")
			} else {
				b.WriteByte(s[i])
			}
		case c == '$' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			j := i + 1
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			b.WriteString("${" + s[i+1:j] + "}")
			i = j - 1
		case c == '$' && i+1 < len(s) && s[i+1] == '{' && strings.IndexByte(s[i:], '}') > 2:
			// A named group, ${name}, the same in Go.
			end := i + strings.IndexByte(s[i:], '}')
			b.WriteString(s[i : end+1])
			i = end
		case c == '$':
			b.WriteString("$$")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

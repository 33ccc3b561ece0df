package transforms

import (
	"errors"
	"strings"

	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/schema/record"
)

func init() {
	Register(Type{
		Name:    "TimestampRouter",
		Aliases: []string{kafkaTransforms + "TimestampRouter"},
		Doc:     "Renames the topic from the original topic and the record's timestamp, as Kafka Connect's TimestampRouter.",
		Spec: &conf.Spec{Keys: []conf.Key{
			{Name: "topic.format", Type: conf.String, Default: "${topic}-${timestamp}", Doc: "The new topic name; ${topic} and ${timestamp} stand for the topic and the formatted timestamp."},
			{Name: "timestamp.format", Type: conf.String, Default: "yyyyMMdd", Check: checkDateFormat, Doc: "java.text.SimpleDateFormat pattern of ${timestamp}, in UTC and English (y, M, MMM, d, E, H, k, h, K, a, m, s, S and quoted text)."},
		}},
		New: func(c *conf.Config) (Transform, error) {
			f, err := parseDateFormat(c.String("timestamp.format"))
			if err != nil {
				return nil, problem("timestamp.format", "%v", err)
			}
			return timestampRouter{topicFormat: c.String("topic.format"), timestamp: f}, nil
		},
	})
}

func checkDateFormat(v string) error {
	_, err := parseDateFormat(strings.TrimSpace(v))
	return err
}

// errNoTimestamp is returned for records without a timestamp, as Kafka
// Connect's "Timestamp missing on record".
var errNoTimestamp = errors.New("timestamp missing on record")

// timestampRouter is Kafka Connect's TimestampRouter. A record's Timestamp
// of 0 (Kafka sets it when producing) is a missing timestamp.
type timestampRouter struct {
	topicFormat string
	timestamp   *dateFormat
}

func (t timestampRouter) Apply(r *record.Record) (*record.Record, error) {
	if r.Timestamp == 0 {
		return nil, errNoTimestamp
	}
	out := r.Clone()
	out.Topic = strings.NewReplacer("${topic}", r.Topic, "${timestamp}", t.timestamp.format(r.Timestamp)).Replace(t.topicFormat)
	return out, nil
}

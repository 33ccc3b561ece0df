package registry

import (
	"fmt"
	"strings"
)

// SubjectNameStrategy names the subject a topic's key or value schema is registered under,
// like Confluent's key.subject.name.strategy / value.subject.name.strategy.
type SubjectNameStrategy string

// The strategies of Confluent's serializers.
const (
	// TopicNameStrategy uses "<topic>-key" or "<topic>-value". The default.
	TopicNameStrategy SubjectNameStrategy = "TopicNameStrategy"
	// RecordNameStrategy uses the record's full name, whatever the topic.
	RecordNameStrategy SubjectNameStrategy = "RecordNameStrategy"
	// TopicRecordNameStrategy uses "<topic>-<record full name>".
	TopicRecordNameStrategy SubjectNameStrategy = "TopicRecordNameStrategy"
)

// confluentStrategyPackage is where Confluent's strategy classes live.
const confluentStrategyPackage = "io.confluent.kafka.serializers.subject."

// ParseSubjectNameStrategy accepts a Confluent class name
// ("io.confluent.kafka.serializers.subject.TopicNameStrategy") or its short name
// ("TopicNameStrategy", any letter case).
func ParseSubjectNameStrategy(name string) (SubjectNameStrategy, error) {
	short := strings.TrimPrefix(strings.TrimSpace(name), confluentStrategyPackage)
	for _, s := range []SubjectNameStrategy{TopicNameStrategy, RecordNameStrategy, TopicRecordNameStrategy} {
		if strings.EqualFold(short, string(s)) {
			return s, nil
		}
	}
	return "", fmt.Errorf("unknown subject name strategy %q: use %s, %s or %s (optionally prefixed with %s)",
		name, TopicNameStrategy, RecordNameStrategy, TopicRecordNameStrategy, confluentStrategyPackage)
}

// Subject returns the subject for a key (isKey) or value schema written to topic. recordName
// is the schema's full name (namespace.name); for unnamed schemas, its type name.
func (s SubjectNameStrategy) Subject(topic string, isKey bool, recordName string) (string, error) {
	switch s {
	case TopicNameStrategy, "":
		if isKey {
			return topic + "-key", nil
		}
		return topic + "-value", nil
	case RecordNameStrategy:
		return recordName, nil
	case TopicRecordNameStrategy:
		return topic + "-" + recordName, nil
	}
	return "", fmt.Errorf("unknown subject name strategy %q", string(s))
}

// needsRecordName reports whether Subject uses the record name.
func (s SubjectNameStrategy) needsRecordName() bool {
	return s == RecordNameStrategy || s == TopicRecordNameStrategy
}

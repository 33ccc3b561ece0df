package registry

import "testing"

func TestSubjectNameStrategies(t *testing.T) {
	cases := []struct {
		name   string
		isKey  bool
		record string
		want   string
	}{
		{"io.confluent.kafka.serializers.subject.TopicNameStrategy", false, "acme.User", "db.public.users-value"},
		{"TopicNameStrategy", true, "acme.User", "db.public.users-key"},
		{"topicnamestrategy", true, "acme.User", "db.public.users-key"},
		{"io.confluent.kafka.serializers.subject.RecordNameStrategy", false, "acme.User", "acme.User"},
		{"RecordNameStrategy", true, "acme.UserKey", "acme.UserKey"},
		{"io.confluent.kafka.serializers.subject.TopicRecordNameStrategy", false, "acme.User", "db.public.users-acme.User"},
		{" TopicRecordNameStrategy ", true, "acme.UserKey", "db.public.users-acme.UserKey"},
	}
	for _, c := range cases {
		s, err := ParseSubjectNameStrategy(c.name)
		if err != nil {
			t.Errorf("ParseSubjectNameStrategy(%q): %v", c.name, err)
			continue
		}
		got, err := s.Subject("db.public.users", c.isKey, c.record)
		if err != nil || got != c.want {
			t.Errorf("%s.Subject(isKey=%v) = %q, %v; want %q", c.name, c.isKey, got, err, c.want)
		}
	}
	_, err := ParseSubjectNameStrategy("io.confluent.kafka.serializers.subject.Nope")
	want := `unknown subject name strategy "io.confluent.kafka.serializers.subject.Nope": use TopicNameStrategy, RecordNameStrategy or TopicRecordNameStrategy (optionally prefixed with io.confluent.kafka.serializers.subject.)`
	if err == nil || err.Error() != want {
		t.Errorf("unknown strategy error = %v, want %s", err, want)
	}
}

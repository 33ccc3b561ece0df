package elasticsearch

import (
	"fmt"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestCommitPointsHoldBackAVersionedDeleteEndingAPartition(t *testing.T) {
	rec := func(topic string, part int32, off int64) *kgo.Record {
		return &kgo.Record{Topic: topic, Partition: part, Offset: off}
	}
	tests := []struct {
		name    string
		recs    []*kgo.Record
		deletes map[partition]int64 // the last versioned delete the converter saw, by partition
		want    []string
	}{
		{"no delete", []*kgo.Record{rec("a", 0, 5), rec("a", 0, 6), rec("b", 1, 3)}, nil, []string{"a/0@6", "b/1@3"}},
		{"delete last", []*kgo.Record{rec("a", 0, 5), rec("a", 0, 6), rec("b", 1, 3)}, map[partition]int64{{"a", 0}: 6}, []string{"a/0@5", "b/1@3"}},
		{"delete alone", []*kgo.Record{rec("a", 0, 6), rec("b", 1, 3)}, map[partition]int64{{"a", 0}: 6}, []string{"b/1@3"}},
		{"delete before its tombstone", []*kgo.Record{rec("a", 0, 5), rec("a", 0, 6), rec("a", 0, 7)}, map[partition]int64{{"a", 0}: 5}, []string{"a/0@7"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conv := &converter{lastDelete: map[partition]deleted{}}
			for p, off := range tt.deletes {
				conv.lastDelete[p] = deleted{offset: off}
			}
			var got []string
			for _, r := range (&batcher{conv: conv}).commitPoints(tt.recs) {
				got = append(got, fmt.Sprintf("%s/%d@%d", r.Topic, r.Partition, r.Offset))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("commit points = %q, want %q", got, tt.want)
			}
		})
	}
}

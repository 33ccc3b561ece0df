package group

import (
	"reflect"
	"testing"
)

func TestBalance(t *testing.T) {
	for _, tc := range []struct {
		name       string
		members    []memberState
		connectors []string
		want       map[string][]string
	}{{
		name:       "new connectors go to the members with the fewest",
		members:    []memberState{{ID: "a"}, {ID: "b"}, {ID: "c"}},
		connectors: []string{"one", "two", "three", "four"},
		want:       map[string][]string{"a": {"four", "two"}, "b": {"one"}, "c": {"three"}},
	}, {
		name:       "sticky: connectors stay where they run",
		members:    []memberState{{ID: "a", Owned: []string{"two"}}, {ID: "b", Owned: []string{"one"}}},
		connectors: []string{"one", "two", "three"},
		want:       map[string][]string{"a": {"three", "two"}, "b": {"one"}},
	}, {
		name:       "a joining member waits while the busiest gives up its surplus",
		members:    []memberState{{ID: "a", Owned: []string{"one", "three", "two"}}, {ID: "b"}},
		connectors: []string{"one", "two", "three"},
		want:       map[string][]string{"a": {"one", "three"}, "b": {}},
	}, {
		name:       "the surplus given up goes out in the next generation",
		members:    []memberState{{ID: "a", Owned: []string{"one", "three"}}, {ID: "b"}},
		connectors: []string{"one", "two", "three"},
		want:       map[string][]string{"a": {"one", "three"}, "b": {"two"}},
	}, {
		name:       "a departed member's connectors are handed out at once",
		members:    []memberState{{ID: "b", Owned: []string{"two"}}, {ID: "c", Owned: []string{"three"}}},
		connectors: []string{"one", "two", "three"},
		want:       map[string][]string{"b": {"one", "two"}, "c": {"three"}},
	}, {
		name:       "a connector two members claim stays with the first; deleted ones go",
		members:    []memberState{{ID: "a", Owned: []string{"one", "gone"}}, {ID: "b", Owned: []string{"one"}}},
		connectors: []string{"one"},
		want:       map[string][]string{"a": {"one"}, "b": {}},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			if got := balance(tc.members, tc.connectors); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("balance:\n got %v\nwant %v", got, tc.want)
			}
		})
	}
}

package embedded

import (
	"reflect"
	"testing"
)

// TestApplyResolvesRacesInLogOrder replays what two processes proposing at once write: both
// checked the subject at revision 0, so the one later in the log conflicts and changes
// nothing, and its proposer registers again against revision 1.
func TestApplyResolvesRacesInLogOrder(t *testing.T) {
	log := []command{
		{Op: opRegister, Subject: "s", Schema: `"int"`, SchemaType: "AVRO", Basis: 0, Level: LevelBackward},
		{Op: opRegister, Subject: "s", Schema: `"long"`, SchemaType: "AVRO", Basis: 0, Level: LevelBackward},
		{Op: opRegister, Subject: "t", Schema: `"long"`, SchemaType: "AVRO", Basis: 0, Level: LevelBackward},
		{Op: opRegister, Subject: "s", Schema: `"long"`, SchemaType: "AVRO", Basis: 1, Level: LevelBackward},
		// A retry of an already applied registration answers the existing version.
		{Op: opRegister, Subject: "s", Schema: `"int"`, SchemaType: "AVRO", Basis: 0, Level: LevelBackward},
		// A level changed since the check conflicts too.
		{Op: opSetConfig, Subject: "t", Level: LevelNone},
		{Op: opRegister, Subject: "t", Schema: `"string"`, SchemaType: "AVRO", Basis: 1, Level: LevelBackward},
		{Op: opRegister, Subject: "t", Schema: `"string"`, SchemaType: "AVRO", Basis: 1, Level: LevelNone},
	}
	want := []outcome{
		{id: 1, version: 1},
		{conflict: true},
		{id: 2, version: 1},
		{id: 2, version: 2},
		{id: 1, version: 1},
		{level: LevelNone},
		{conflict: true},
		{id: 3, version: 2},
	}
	for run := range 2 {
		st := newState(LevelBackward)
		var got []outcome
		for _, c := range log {
			got = append(got, st.apply(c))
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("run %d outcomes:\n got %+v\nwant %+v", run, got, want)
		}
		if vs, _ := st.versions("s", false); !reflect.DeepEqual(vs, []versionState{{1, 1, false}, {2, 2, false}}) {
			t.Errorf("run %d versions of s = %+v", run, vs)
		}
	}
}

// TestTextsNormalizedOtherwiseStayOneSchema replays a registration whose text an earlier
// release normalized otherwise (namespace folded into the name, keys in another order): the
// same schema registered again now answers the same id and version, and reads back in this
// release's form.
func TestTextsNormalizedOtherwiseStayOneSchema(t *testing.T) {
	st := newState(LevelBackward)
	old := command{Op: opRegister, Subject: "s", SchemaType: "AVRO", Level: LevelBackward,
		Schema: `{"name":"acme.User","type":"record","fields":[{"name":"id","type":"long"}]}`}
	if got := st.apply(old); !reflect.DeepEqual(got, outcome{id: 1, version: 1}) {
		t.Fatalf("old registration = %+v", got)
	}
	_, text, err := parseAvro(`{"type":"record","name":"User","namespace":"acme","fields":[{"name":"id","type":"long"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	again := command{Op: opRegister, Subject: "s", SchemaType: "AVRO", Level: LevelBackward, Basis: 1, Schema: text}
	if got := st.apply(again); !reflect.DeepEqual(got, outcome{id: 1, version: 1}) {
		t.Errorf("same schema registered again = %+v, want id 1 version 1", got)
	}
	const want = `{"fields":[{"name":"id","type":"long"}],"name":"User","namespace":"acme","type":"record"}`
	if got := st.ids[1].text; got != want {
		t.Errorf("stored text = %s, want %s", got, want)
	}
}

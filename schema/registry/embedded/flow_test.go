package embedded

import (
	"strconv"
	"testing"
)

const (
	userV1 = `{"type":"record","name":"User","namespace":"acme","fields":[{"name":"id","type":"long"}]}`
	userV2 = `{"type":"record","name":"User","namespace":"acme","fields":[{"name":"id","type":"long"},{"name":"email","type":["null","string"],"default":null}]}`
	// userBad adds a field without a default: not BACKWARD compatible with userV1.
	userBad = `{"type":"record","name":"User","namespace":"acme","fields":[{"name":"id","type":"long"},{"name":"age","type":"int"}]}`
)

// body wraps an Avro schema as a register/lookup request body.
func body(schema string) string { return `{"schema":` + strconv.Quote(schema) + `}` }

// normalized are the schemas as the registry stores and returns them.
const (
	userV1N = `{"fields":[{"name":"id","type":"long"}],"name":"User","namespace":"acme","type":"record"}`
	userV2N = `{"fields":[{"name":"id","type":"long"},{"default":null,"name":"email","type":["null","string"]}],"name":"User","namespace":"acme","type":"record"}`
)

func TestRegisterLookupVersionsDelete(t *testing.T) {
	forEachBackend(t, func(t *testing.T, brokers []string, topic string) {
		_, srv := startRegistry(t, brokers, topic)
		q := strconv.Quote
		runSteps(t, srv, []step{
			{"GET", "/subjects", "", 200, `[]`},
			{"GET", "/schemas/types", "", 200, `["AVRO"]`},
			{"GET", "/config", "", 200, `{"compatibilityLevel":"BACKWARD"}`},
			{"GET", "/mode", "", 200, `{"mode":"READWRITE"}`},
			{"POST", "/subjects/users-value/versions", body(userV1), 200, `{"id":1}`},
			// The same schema again, with other whitespace: same id, no new version.
			{"POST", "/subjects/users-value/versions", body("{ \"type\": \"record\", \"name\": \"User\", \"namespace\": \"acme\",\n \"fields\": [{\"name\": \"id\", \"type\": \"long\"}]}"), 200, `{"id":1}`},
			{"POST", "/subjects/users-value/versions", body(userV2), 200, `{"id":2}`},
			{"POST", "/subjects/users-value/versions", body(userBad), 409,
				`{"error_code":409,"message":"Schema being registered is incompatible with an earlier schema for subject \"users-value\", details: [the new schema cannot read data written with version 2: avro: incompatible at age: reader int vs writer : reader field has no default and is missing from writer, {oldSchemaVersion: 2}, {oldSchema: '` + jsonEscape(userV2N) + `'}, {compatibility: 'BACKWARD'}]"}`},
			// The same schema under another subject gets the same id.
			{"POST", "/subjects/other-value/versions", body(userV1), 200, `{"id":1}`},
			{"GET", "/subjects", "", 200, `["other-value","users-value"]`},
			{"GET", "/subjects/users-value/versions", "", 200, `[1,2]`},
			{"GET", "/subjects/users-value/versions/1", "", 200, `{"subject":"users-value","version":1,"id":1,"schema":` + q(userV1N) + `}`},
			{"GET", "/subjects/users-value/versions/latest", "", 200, `{"subject":"users-value","version":2,"id":2,"schema":` + q(userV2N) + `}`},
			{"GET", "/subjects/users-value/versions/-1", "", 200, `{"subject":"users-value","version":2,"id":2,"schema":` + q(userV2N) + `}`},
			{"GET", "/subjects/users-value/versions/2/schema", "", 200, userV2N},
			{"POST", "/subjects/users-value", body(userV1), 200, `{"subject":"users-value","version":1,"id":1,"schema":` + q(userV1N) + `}`},
			{"POST", "/subjects/users-value", body(userBad), 404, `{"error_code":40403,"message":"Schema not found"}`},
			{"POST", "/subjects/nobody", body(userV1), 404, `{"error_code":40401,"message":"Subject 'nobody' not found."}`},
			{"GET", "/schemas/ids/1", "", 200, `{"schema":` + q(userV1N) + `}`},
			{"GET", "/schemas/ids/1/schema", "", 200, userV1N},
			{"GET", "/schemas/ids/1/subjects", "", 200, `["other-value","users-value"]`},
			{"GET", "/schemas/ids/1/versions", "", 200, `[{"subject":"other-value","version":1},{"subject":"users-value","version":1}]`},
			{"GET", "/schemas/ids/3", "", 404, `{"error_code":40403,"message":"Schema 3 not found"}`},
			// Deleting.
			{"DELETE", "/subjects/users-value/versions/2?permanent=true", "", 404, `{"error_code":40407,"message":"Subject 'users-value' Version 2 was not deleted first before being permanently deleted"}`},
			{"DELETE", "/subjects/users-value/versions/2", "", 200, `2`},
			{"DELETE", "/subjects/users-value/versions/2", "", 404, `{"error_code":40406,"message":"Subject 'users-value' Version 2 was soft deleted.Set permanent=true to delete permanently"}`},
			{"GET", "/subjects/users-value/versions", "", 200, `[1]`},
			{"GET", "/subjects/users-value/versions?deleted=true", "", 200, `[1,2]`},
			{"GET", "/subjects/users-value/versions/2", "", 404, `{"error_code":40402,"message":"Version 2 not found."}`},
			{"GET", "/subjects/users-value/versions/2?deleted=true", "", 200, `{"subject":"users-value","version":2,"id":2,"schema":` + q(userV2N) + `}`},
			{"GET", "/schemas/ids/2", "", 200, `{"schema":` + q(userV2N) + `}`},
			{"DELETE", "/subjects/users-value/versions/2?permanent=true", "", 200, `2`},
			{"GET", "/schemas/ids/2", "", 404, `{"error_code":40403,"message":"Schema 2 not found"}`},
			{"DELETE", "/subjects/users-value?permanent=true", "", 404, `{"error_code":40405,"message":"Subject 'users-value' was not deleted first before being permanently deleted"}`},
			{"DELETE", "/subjects/users-value", "", 200, `[1]`},
			{"DELETE", "/subjects/users-value", "", 404, `{"error_code":40404,"message":"Subject 'users-value' was soft deleted.Set permanent=true to delete permanently"}`},
			{"GET", "/subjects", "", 200, `["other-value"]`},
			{"GET", "/subjects?deleted=true", "", 200, `["other-value","users-value"]`},
			{"GET", "/subjects/users-value/versions", "", 404, `{"error_code":40401,"message":"Subject 'users-value' not found."}`},
			{"DELETE", "/subjects/users-value?permanent=true", "", 200, `[1]`},
			{"GET", "/subjects?deleted=true", "", 200, `["other-value"]`},
			// id 1 is still used by other-value.
			{"GET", "/schemas/ids/1/subjects", "", 200, `["other-value"]`},
			// Registering again after a hard delete starts at version 1; v2's id is kept.
			{"POST", "/subjects/users-value/versions", body(userV2), 200, `{"id":2}`},
			{"GET", "/subjects/users-value/versions", "", 200, `[1]`},
			{"DELETE", "/subjects/nobody", "", 404, `{"error_code":40401,"message":"Subject 'nobody' not found."}`},
			// A subject with a slash is addressed with %2F.
			{"POST", "/subjects/team%2Fusers/versions", body(userV1), 200, `{"id":1}`},
			{"GET", "/subjects/team%2Fusers/versions/latest", "", 200, `{"subject":"team/users","version":1,"id":1,"schema":` + q(userV1N) + `}`},
			{"GET", "/subjects", "", 200, `["other-value","team/users","users-value"]`},
		})
	})
}

func TestConfigAndCompatibility(t *testing.T) {
	forEachBackend(t, func(t *testing.T, brokers []string, topic string) {
		_, srv := startRegistry(t, brokers, topic)
		runSteps(t, srv, []step{
			{"POST", "/compatibility/subjects/s/versions/latest", body(userV1), 200, `{"is_compatible":true}`},
			{"POST", "/compatibility/subjects/s/versions/1", body(userV1), 404, `{"error_code":40401,"message":"Subject 's' not found."}`},
			{"POST", "/subjects/s/versions", body(userV1), 200, `{"id":1}`},
			{"POST", "/compatibility/subjects/s/versions/latest", body(userV2), 200, `{"is_compatible":true}`},
			{"POST", "/compatibility/subjects/s/versions/latest?verbose=true", body(userV2), 200, `{"is_compatible":true,"messages":[]}`},
			{"POST", "/compatibility/subjects/s/versions/latest", body(userBad), 200, `{"is_compatible":false}`},
			{"POST", "/compatibility/subjects/s/versions/1?verbose=true", body(userBad), 200,
				`{"is_compatible":false,"messages":["the new schema cannot read data written with version 1: avro: incompatible at age: reader int vs writer : reader field has no default and is missing from writer","{oldSchemaVersion: 1}","{oldSchema: '` + jsonEscape(userV1N) + `'}","{compatibility: 'BACKWARD'}"]}`},
			{"POST", "/compatibility/subjects/s/versions/7", body(userBad), 404, `{"error_code":40402,"message":"Version 7 not found."}`},
			{"GET", "/config/s", "", 404, `{"error_code":40408,"message":"Subject 's' does not have subject-level compatibility configured"}`},
			{"GET", "/config/s?defaultToGlobal=true", "", 200, `{"compatibilityLevel":"BACKWARD"}`},
			{"PUT", "/config/s", `{"compatibility":"forward"}`, 200, `{"compatibility":"FORWARD"}`},
			{"GET", "/config/s", "", 200, `{"compatibilityLevel":"FORWARD"}`},
			// Under FORWARD, a new field without default is fine.
			{"POST", "/compatibility/subjects/s/versions/latest", body(userBad), 200, `{"is_compatible":true}`},
			{"PUT", "/config/s", `{"compatibility":"SIDEWAYS"}`, 422, `{"error_code":42203,"message":"Invalid compatibility level 'SIDEWAYS'. Valid values are NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE"}`},
			{"DELETE", "/config/s", "", 200, `{"compatibilityLevel":"FORWARD"}`},
			// Deleting a level the subject does not have is 40401, as in Confluent's registry.
			{"DELETE", "/config/s", "", 404, `{"error_code":40401,"message":"Subject 's' not found."}`},
			{"PUT", "/config", `{"compatibility":"NONE"}`, 200, `{"compatibility":"NONE"}`},
			{"GET", "/config", "", 200, `{"compatibilityLevel":"NONE"}`},
			{"POST", "/subjects/s/versions", body(userBad), 200, `{"id":2}`},
		})
	})
}

// jsonEscape escapes s as it appears inside a JSON string.
func jsonEscape(s string) string {
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}

// TestDefaultCompatibilityInAnyLetterCase checks that a default level given in lower case is
// applied as the level it names, not stored as written (where it would check nothing).
func TestDefaultCompatibilityInAnyLetterCase(t *testing.T) {
	_, srv := startRegistry(t, backends[0].brokers(t), "_schemas", WithDefaultCompatibility("full"))
	runSteps(t, srv, []step{
		{"GET", "/config", "", 200, `{"compatibilityLevel":"FULL"}`},
		{"POST", "/subjects/s/versions", body(userV1), 200, `{"id":1}`},
		{"POST", "/subjects/s/versions", body(userBad), 409,
			`{"error_code":409,"message":"Schema being registered is incompatible with an earlier schema for subject \"s\", details: [the new schema cannot read data written with version 1: avro: incompatible at age: reader int vs writer : reader field has no default and is missing from writer, {oldSchemaVersion: 1}, {oldSchema: '` + jsonEscape(userV1N) + `'}, {compatibility: 'FULL'}]"}`},
	})
}

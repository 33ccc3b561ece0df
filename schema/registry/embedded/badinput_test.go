package embedded

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestBadInputChangesNothing(t *testing.T) {
	brokers := backends[0].brokers(t)
	r, srv := startRegistry(t, brokers, "_schemas", WithMaxBodyBytes(1<<20))
	big := `{"schema":"` + strings.Repeat(" ", 1<<20) + `"}`
	runSteps(t, srv, []step{
		{"POST", "/subjects/s/versions", `{"schema":`, 400, `{"error_code":400,"message":"Malformed JSON request body: unexpected end of JSON input"}`},
		{"POST", "/subjects/s/versions", `[1,2]`, 400, `{"error_code":400,"message":"Malformed JSON request body: json: cannot unmarshal array into Go value of type embedded.schemaRequest"}`},
		{"POST", "/subjects/s/versions", `{"schema":""}`, 422, `{"error_code":42201,"message":"Empty schema"}`},
		{"POST", "/subjects/s/versions", `{"schema":"{\"type\":\"record\",\"name\":\"X\"}"}`, 422,
			`{"error_code":42201,"message":"Invalid schema {\"type\":\"record\",\"name\":\"X\"}, details: record is missing fields"}`},
		{"POST", "/subjects/s/versions", `{"schema":"{\"type\":\"record\",\"name\":\"X\",\"fields\":[{\"name\":\"a\",\"type\":\"int\",\"default\":\"x\"}]}"}`, 422,
			`{"error_code":42201,"message":"Invalid schema {\"type\":\"record\",\"name\":\"X\",\"fields\":[{\"name\":\"a\",\"type\":\"int\",\"default\":\"x\"}]}, details: record field \"a\": invalid default: int default: expected number, got string"}`},
		{"POST", "/subjects/s/versions", `{"schema":"{}","schemaType":"JSON"}`, 422, `{"error_code":42201,"message":"Schema type JSON is not supported: this registry stores AVRO schemas only"}`},
		{"POST", "/subjects/s/versions", `{"schema":"syntax = \"proto3\";","schemaType":"PROTOBUF"}`, 422, `{"error_code":42201,"message":"Schema type PROTOBUF is not supported: this registry stores AVRO schemas only"}`},
		{"POST", "/subjects/s/versions", `{"schema":"\"int\"","schemaType":"XML"}`, 422, `{"error_code":42201,"message":"Invalid schema type \"XML\": this registry stores AVRO schemas only"}`},
		{"POST", "/subjects/s/versions", `{"schema":"\"int\"","references":[{"name":"a","subject":"b","version":1}]}`, 422, `{"error_code":42201,"message":"Schema references are not supported by this registry"}`},
		{"POST", "/subjects/s/versions", big, 413, `{"error_code":413,"message":"Request body is larger than 1048576 bytes"}`},
		{"POST", "/subjects/s/versions", "", 400, `{"error_code":400,"message":"Request body is empty"}`},
		{"GET", "/subjects/s/versions/0", "", 422, `{"error_code":42202,"message":"The specified version '0' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\""}`},
		{"GET", "/subjects/s/versions/-2", "", 422, `{"error_code":42202,"message":"The specified version '-2' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\""}`},
		{"GET", "/subjects/s/versions/abc", "", 422, `{"error_code":42202,"message":"The specified version 'abc' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\""}`},
		{"GET", "/subjects/s/versions/2147483648", "", 422, `{"error_code":42202,"message":"The specified version '2147483648' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\""}`},
		{"DELETE", "/subjects/s/versions/x", "", 422, `{"error_code":42202,"message":"The specified version 'x' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\""}`},
		{"GET", "/subjects/s/versions/1", "", 404, `{"error_code":40401,"message":"Subject 's' not found."}`},
		{"GET", "/subjects/s/versions?deleted=maybe", "", 400, `{"error_code":400,"message":"Query parameter deleted=\"maybe\" is not a boolean: use true or false"}`},
		// Only true and false (any letter case) are booleans: Confluent's registry reads "1" as false.
		{"GET", "/subjects?deleted=", "", 400, `{"error_code":400,"message":"Query parameter deleted=\"\" is not a boolean: use true or false"}`},
		{"GET", "/subjects?deleted=1", "", 400, `{"error_code":400,"message":"Query parameter deleted=\"1\" is not a boolean: use true or false"}`},
		{"GET", "/config/s?defaultToGlobal=", "", 400, `{"error_code":400,"message":"Query parameter defaultToGlobal=\"\" is not a boolean: use true or false"}`},
		{"GET", "/subjects?deleted=TRUE", "", 200, `[]`},
		{"GET", "/config/s?defaultToGlobal=False", "", 404, `{"error_code":40408,"message":"Subject 's' does not have subject-level compatibility configured"}`},
		{"GET", "/schemas/ids/abc", "", 404, `{"error_code":40403,"message":"Schema \"abc\" not found"}`},
		{"GET", "/schemas/ids/-1", "", 404, `{"error_code":40403,"message":"Schema \"-1\" not found"}`},
		{"GET", "/schemas/ids/99/versions", "", 404, `{"error_code":40403,"message":"Schema 99 not found"}`},
		{"PUT", "/subjects/s/versions", `{"schema":"\"int\""}`, 405, `{"error_code":405,"message":"HTTP 405 Method Not Allowed"}`},
		{"DELETE", "/config", "", 405, `{"error_code":405,"message":"HTTP 405 Method Not Allowed"}`},
		{"POST", "/mode", `{}`, 405, `{"error_code":405,"message":"HTTP 405 Method Not Allowed"}`},
		{"GET", "/nothing/here", "", 404, `{"error_code":404,"message":"HTTP 404 Not Found"}`},
		{"PUT", "/config", `{"compatibility":1}`, 400, `{"error_code":400,"message":"Malformed JSON request body: json: cannot unmarshal number into Go struct field configRequest.compatibility of type string"}`},
		{"PUT", "/config", `{}`, 422, `{"error_code":42203,"message":"Invalid compatibility level ''. Valid values are NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE"}`},
		{"PUT", "/config", `{"compatibility":" FULL"}`, 422, `{"error_code":42203,"message":"Invalid compatibility level ' FULL'. Valid values are NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE"}`},
		// A subject that is not UTF-8 would be stored as another name (JSON carries UTF-8 only),
		// and Confluent's registry refuses control characters.
		{"POST", "/subjects/%FF/versions", body(userV1), 422, `{"error_code":42208,"message":"The specified subject \"\\xff\" is not valid: a subject is UTF-8 text without control characters"}`},
		{"POST", "/subjects/a%00b/versions", body(userV1), 422, `{"error_code":42208,"message":"The specified subject \"a\\x00b\" is not valid: a subject is UTF-8 text without control characters"}`},
		{"POST", "/subjects/a%C2%85b/versions", body(userV1), 422, `{"error_code":42208,"message":"The specified subject \"a\\u0085b\" is not valid: a subject is UTF-8 text without control characters"}`},
		{"PUT", "/config/%FE", `{"compatibility":"FULL"}`, 422, `{"error_code":42208,"message":"The specified subject \"\\xfe\" is not valid: a subject is UTF-8 text without control characters"}`},
		{"DELETE", "/subjects/s", "", 404, `{"error_code":40401,"message":"Subject 's' not found."}`},
		{"DELETE", "/subjects/s/versions/1", "", 404, `{"error_code":40401,"message":"Subject 's' not found."}`},
		{"DELETE", "/config/s", "", 404, `{"error_code":40401,"message":"Subject 's' not found."}`},
		{"GET", "/subjects", "", 200, `[]`},
	})

	// A form-encoded body (curl -d without a content type) is refused.
	resp, err := http.Post(srv.URL+"/subjects/s/versions", "application/x-www-form-urlencoded", strings.NewReader(`{"schema":"\"int\""}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("form-encoded register: got status %d, want 415", resp.StatusCode)
	}
	if got := resp.Header.Get("Content-Type"); got != contentType {
		t.Errorf("error Content-Type = %q, want %q", got, contentType)
	}

	// Nothing was written to the topic.
	end, err := r.store.endOffset(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if end != 0 {
		t.Errorf("bad requests wrote %d records to the topic, want 0", end)
	}
}

func TestAuth(t *testing.T) {
	brokers := backends[0].brokers(t)
	basic := func(user, password string) func(*http.Request) {
		return func(r *http.Request) { r.SetBasicAuth(user, password) }
	}
	bearer := func(tok string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
	}
	both := func(c *config) {
		for _, o := range []Option{WithBasicAuth("u", "p"), WithBearerTokens("first-token"), WithBearerTokens("second-token")} {
			o(c)
		}
	}
	cases := []struct {
		name   string
		opt    Option
		set    func(*http.Request)
		status int
	}{
		{"basic ok", WithBasicAuth("u", "p"), basic("u", "p"), 200},
		{"basic wrong password", WithBasicAuth("u", "p"), basic("u", "x"), 401},
		{"basic missing", WithBasicAuth("u", "p"), func(*http.Request) {}, 401},
		{"bearer ok", WithBearerTokens("tok"), bearer("tok"), 200},
		{"bearer wrong", WithBearerTokens("tok"), bearer("tok2"), 401},
		{"bearer as basic", WithBearerTokens("tok"), basic("tok", ""), 401},
		// The daemon gives a user and every REST token: each of them passes.
		{"all: basic", both, basic("u", "p"), 200},
		{"all: first token", both, bearer("first-token"), 200},
		{"all: last token", both, bearer("second-token"), 200},
		{"all: wrong token", both, bearer("third-token"), 401},
		{"all: wrong user", both, basic("v", "p"), 401},
		{"all: missing", both, func(*http.Request) {}, 401},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, srv := startRegistry(t, brokers, "_schemas", c.opt)
			req, _ := http.NewRequest("GET", srv.URL+"/subjects", nil)
			c.set(req)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, c.status)
			}
		})
	}
}

func TestNotReadyAnswers503(t *testing.T) {
	r := &Registry{cfg: defaultConfig(), ready: make(chan struct{})}
	srv := httptest.NewServer(r)
	defer srv.Close()
	runSteps(t, srv, []step{
		{"GET", "/subjects", "", 503, `{"error_code":503,"message":"Schema registry is still reading its state from topic '_schemas'"}`},
	})
	if r.Ready() {
		t.Error("Ready() = true before the topic was read")
	}
}

package embedded

import (
	"fmt"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
)

// snapshot renders everything a client can see, for comparing registries.
func snapshot(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	_, subjects := call(t, srv, "GET", "/subjects?deleted=true", "")
	out := "subjects " + subjects + "\n"
	var names []string
	if err := jsonUnmarshal(subjects, &names); err != nil {
		t.Fatalf("decode subjects %s: %v", subjects, err)
	}
	for _, s := range names {
		_, versions := call(t, srv, "GET", "/subjects/"+s+"/versions?deleted=true", "")
		out += s + " " + versions + "\n"
		var vs []int
		if err := jsonUnmarshal(versions, &vs); err != nil {
			t.Fatalf("decode versions %s: %v", versions, err)
		}
		for _, v := range vs {
			_, body := call(t, srv, "GET", "/subjects/"+s+"/versions/"+strconv.Itoa(v)+"?deleted=true", "")
			out += body + "\n"
		}
		_, level := call(t, srv, "GET", "/config/"+s, "")
		out += level + "\n"
	}
	_, global := call(t, srv, "GET", "/config", "")
	return out + global
}

// field returns a record schema for subject-specific schema number n.
func numbered(name string, n int) string {
	fields := `{"name":"f0","type":"int"}`
	for i := 1; i < n; i++ {
		fields += fmt.Sprintf(`,{"name":"f%d","type":"int","default":%d}`, i, i)
	}
	return `{"type":"record","name":"` + name + `","fields":[` + fields + `]}`
}

func TestRestartKeepsState(t *testing.T) {
	forEachBackend(t, func(t *testing.T, brokers []string, topic string) {
		r1, srv1 := startRegistry(t, brokers, topic)
		runSteps(t, srv1, []step{
			{"POST", "/subjects/a-value/versions", body(numbered("A", 1)), 200, `{"id":1}`},
			{"POST", "/subjects/a-value/versions", body(numbered("A", 2)), 200, `{"id":2}`},
			{"POST", "/subjects/b-value/versions", body(numbered("B", 1)), 200, `{"id":3}`},
			{"POST", "/subjects/c-value/versions", body(numbered("A", 1)), 200, `{"id":1}`},
			{"PUT", "/config/b-value", `{"compatibility":"NONE"}`, 200, `{"compatibility":"NONE"}`},
			{"PUT", "/config", `{"compatibility":"FULL"}`, 200, `{"compatibility":"FULL"}`},
			{"DELETE", "/subjects/c-value", "", 200, `[1]`},
			{"DELETE", "/subjects/a-value/versions/1", "", 200, `1`},
		})
		before := snapshot(t, srv1)
		srv1.Close()
		r1.Close()

		_, srv2 := startRegistry(t, brokers, topic)
		if after := snapshot(t, srv2); after != before {
			t.Errorf("state after restart:\n%s\nwant:\n%s", after, before)
		}
		// Ids continue after the restart.
		runSteps(t, srv2, []step{{"POST", "/subjects/b-value/versions", body(numbered("C", 1)), 200, `{"id":4}`}})
	})
}

// TestTwoInstancesAgree registers schemas concurrently through two registries sharing the
// topic, several writers each, some on the same subjects: both must end with the same ids and
// versions for everything, and every answer a writer got must match the final state.
func TestTwoInstancesAgree(t *testing.T) {
	forEachBackend(t, func(t *testing.T, brokers []string, topic string) {
		_, srvA := startRegistry(t, brokers, topic, WithDefaultCompatibility(LevelNone))
		_, srvB := startRegistry(t, brokers, topic, WithDefaultCompatibility(LevelNone))
		type answer struct {
			subject, schema string
			id              int
		}
		var (
			mu      sync.Mutex
			answers []answer
			wg      sync.WaitGroup
		)
		for w := range 6 {
			srv := srvA
			if w%2 == 1 {
				srv = srvB
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 1; n <= 5; n++ {
					// Writers 0 (on A) and 1 (on B) share a subject, so do 2 and 3;
					// the same schema text is also registered under several subjects.
					subject := fmt.Sprintf("s%d-value", w/2)
					if w >= 4 {
						subject = fmt.Sprintf("own%d-value", w)
					}
					schema := numbered(fmt.Sprintf("R%d", w%3), n)
					status, got := call(t, srv, "POST", "/subjects/"+subject+"/versions", body(schema))
					var resp struct{ ID int }
					if status != 200 || jsonUnmarshal(got, &resp) != nil {
						t.Errorf("writer %d register %d under %s: %d %s", w, n, subject, status, got)
						return
					}
					mu.Lock()
					answers = append(answers, answer{subject, schema, resp.ID})
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		// Read both to the end of the log before comparing.
		call(t, srvA, "GET", "/schemas/ids/1000", "")
		call(t, srvB, "GET", "/schemas/ids/1000", "")
		a, b := snapshot(t, srvA), snapshot(t, srvB)
		if a != b {
			t.Fatalf("registries disagree:\nA:\n%s\nB:\n%s", a, b)
		}
		// Every answer names the id the shared state holds for that schema under that subject.
		for _, ans := range answers {
			status, got := call(t, srvB, "POST", "/subjects/"+ans.subject, body(ans.schema))
			var resp struct{ ID int }
			if status != 200 || jsonUnmarshal(got, &resp) != nil || resp.ID != ans.id {
				t.Errorf("%s: answered id %d, final state says %d %s", ans.subject, ans.id, status, got)
			}
		}
		// Distinct schemas got distinct ids, identical ones the same id.
		ids := map[string]int{}
		for _, ans := range answers {
			if id, ok := ids[ans.schema]; ok && id != ans.id {
				t.Errorf("schema registered with ids %d and %d", id, ans.id)
			}
			ids[ans.schema] = ans.id
		}
		seen := map[int]string{}
		for schema, id := range ids {
			if other, ok := seen[id]; ok {
				t.Errorf("id %d given to two schemas:\n%s\n%s", id, other, schema)
			}
			seen[id] = schema
		}
		if len(ids) != 15 {
			t.Errorf("%d distinct schemas registered, want 15", len(ids))
		}
	})
}

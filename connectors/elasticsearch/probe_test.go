package elasticsearch

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestProbeSaysWhatIsWrongWithTheCluster checks the messages a sink's
// status shows while its cluster cannot be used.
func TestProbeSaysWhatIsWrongWithTheCluster(t *testing.T) {
	answer := func(code int) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Elastic-Product", "Elasticsearch")
			w.WriteHeader(code)
			w.Write([]byte(`{"version": {"number": "8.15.0"}, "tagline": "You Know, for Search"}`))
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	ok, unauthorized, unavailable := answer(200), answer(401), answer(503)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	down := strings.TrimPrefix(closed.URL, "http://")
	for _, tc := range []struct {
		urls, want string
	}{
		{ok, ""},
		{"http://" + down, "Elasticsearch at http://" + down + " cannot be reached: dial tcp " + down + ": connect: connection refused"},
		{ok + "," + unauthorized, "Elasticsearch at " + unauthorized + " refuses the sink's credentials (HTTP 401): check connection.username and connection.password, or connection.api.key"},
		{unavailable + "," + "http://" + down, "Elasticsearch at " + unavailable + " answers HTTP 503: the cluster is not serving requests; " +
			"Elasticsearch at http://" + down + " cannot be reached: dial tcp " + down + ": connect: connection refused"},
	} {
		c, err := Spec.Parse(map[string]string{"connector.class": "elasticsearch", "topics": "t", "connection.url": tc.urls})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = probe(ctx, c)
		cancel()
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.urls, got, tc.want)
		}
	}
}

package registry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/schema/registry/embedded"
	"github.com/twmb/avro"
	"github.com/twmb/franz-go/pkg/kfake"
)

const (
	userV1 = `{"type":"record","name":"User","namespace":"acme","fields":[{"name":"id","type":"long"}]}`
	userV2 = `{"type":"record","name":"User","namespace":"acme","fields":[{"name":"id","type":"long"},{"name":"email","type":["null","string"],"default":null}]}`
	// userBad adds a field without a default: not BACKWARD compatible with userV1.
	userBad = `{"type":"record","name":"User","namespace":"acme","fields":[{"name":"id","type":"long"},{"name":"age","type":"int"}]}`

	userV1N = `{"fields":[{"name":"id","type":"long"}],"name":"User","namespace":"acme","type":"record"}`
	userV2N = `{"fields":[{"name":"id","type":"long"},{"default":null,"name":"email","type":["null","string"]}],"name":"User","namespace":"acme","type":"record"}`
)

// counting counts the requests that reach the registry behind it.
type counting struct {
	next  http.Handler
	count atomic.Int64
}

func (c *counting) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.count.Add(1)
	c.next.ServeHTTP(w, r)
}

// startRegistry serves an embedded registry on kfake behind a request counter.
func startRegistry(t testing.TB, opts ...embedded.Option) (*httptest.Server, *counting) {
	t.Helper()
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	r, err := embedded.New(context.Background(), cluster.ListenAddrs(), append([]embedded.Option{embedded.WithReplicationFactor(1)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	c := &counting{next: r}
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	return srv, c
}

func newClient(t *testing.T, url string, opts ...Option) *Client {
	t.Helper()
	c, err := New(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRegisterIsCachedAndSingleFlight(t *testing.T) {
	srv, calls := startRegistry(t)
	c := newClient(t, srv.URL)
	ctx := context.Background()

	// A burst of concurrent first registrations makes one registration (POST + GET by id).
	var wg sync.WaitGroup
	regs := make([]Registration, 50)
	errs := make([]error, 50)
	for i := range regs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			regs[i], errs[i] = c.Register(ctx, "db.public.users", false, userV1)
		}()
	}
	wg.Wait()
	for i := range regs {
		if errs[i] != nil || regs[i] != (Registration{Subject: "db.public.users-value", ID: 1, Schema: userV1}) {
			t.Fatalf("Register #%d = %+v, %v", i, regs[i], errs[i])
		}
	}
	if n := calls.count.Load(); n != 2 {
		t.Errorf("registry requests for a burst of 50 registrations = %d, want 2", n)
	}

	// Warm: no request at all.
	for range 1000 {
		if _, err := c.Register(ctx, "db.public.users", false, userV1); err != nil {
			t.Fatal(err)
		}
	}
	if n := calls.count.Load(); n != 2 {
		t.Errorf("registry requests after 1000 warm registrations = %d, want 2", n)
	}

	// The key schema is another subject: one more registration.
	reg, err := c.Register(ctx, "db.public.users", true, userV1)
	if err != nil || reg != (Registration{Subject: "db.public.users-key", ID: 1, Schema: userV1}) {
		t.Errorf("Register key = %+v, %v", reg, err)
	}
	if n := calls.count.Load(); n != 4 {
		t.Errorf("registry requests after registering the key = %d, want 4", n)
	}
}

func TestSchemaByIDIsCachedAndSingleFlight(t *testing.T) {
	srv, calls := startRegistry(t)
	ctx := context.Background()
	if _, err := newClient(t, srv.URL).Register(ctx, "t", false, userV2); err != nil {
		t.Fatal(err)
	}
	before := calls.count.Load()

	c := newClient(t, srv.URL)
	var wg sync.WaitGroup
	got := make([]*Schema, 50)
	errs := make([]error, 50)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = c.Schema(ctx, 1)
		}()
	}
	wg.Wait()
	for i := range got {
		if errs[i] != nil || got[i].ID != 1 || got[i].Text != userV2N {
			t.Fatalf("Schema(1) #%d = %+v, %v", i, got[i], errs[i])
		}
	}
	for range 1000 {
		if _, err := c.Schema(ctx, 1); err != nil {
			t.Fatal(err)
		}
	}
	if n := calls.count.Load() - before; n != 1 {
		t.Errorf("registry requests for 50 concurrent + 1000 warm lookups = %d, want 1", n)
	}

	_, err := c.Schema(ctx, 9)
	var re *ResponseError
	want := `get schema id 9: registry answered HTTP 404 (error code 40403): Schema 9 not found`
	if !errors.As(err, &re) || err.Error() != want || errors.Is(err, ErrUnavailable) {
		t.Errorf("Schema(9) error = %v, want %s", err, want)
	}
}

func TestRecordNameStrategies(t *testing.T) {
	srv, _ := startRegistry(t)
	ctx := context.Background()
	for _, c := range []struct {
		strategy SubjectNameStrategy
		want     string
	}{
		{RecordNameStrategy, "acme.User"},
		{TopicRecordNameStrategy, "orders-acme.User"},
	} {
		reg, err := newClient(t, srv.URL, WithSubjectNameStrategy(c.strategy)).Register(ctx, "orders", false, userV1)
		if err != nil || reg.Subject != c.want || reg.ID != 1 {
			t.Errorf("%s: Register = %+v, %v; want subject %q id 1", c.strategy, reg, err, c.want)
		}
	}
}

// TestFullName checks the names RecordNameStrategy takes from a schema, however its
// namespace is written.
func TestFullName(t *testing.T) {
	for schema, want := range map[string]string{
		`{"type":"record","name":"User","namespace":"acme","fields":[]}`:       "acme.User",
		`{"type":"record","name":"acme.User","fields":[]}`:                     "acme.User",
		`{"type":"record","name":"other.User","namespace":"acme","fields":[]}`: "other.User",
		`{"type":"enum","name":"Color","symbols":["RED"]}`:                     "Color",
		`{"type":"fixed","name":"F","namespace":"a.b","size":2}`:               "a.b.F",
		`"string"`: "string",
	} {
		s, err := avro.Parse(schema)
		if err != nil {
			t.Fatalf("%s: %v", schema, err)
		}
		if got := fullName(s); got != want {
			t.Errorf("fullName(%s) = %q, want %q", schema, got, want)
		}
	}
}

func TestAutoRegisterOff(t *testing.T) {
	srv, calls := startRegistry(t)
	ctx := context.Background()
	lookup := newClient(t, srv.URL, WithAutoRegister(false))
	latest := newClient(t, srv.URL, WithAutoRegister(false), WithUseLatestVersion(true))

	_, err := lookup.Register(ctx, "users", false, userV1)
	want := `look up schema under subject "users-value": schema is not registered: the registry does not have it (error code 40401); register it or enable auto.register.schemas`
	if !errors.Is(err, ErrNotRegistered) || err.Error() != want {
		t.Errorf("lookup of unregistered schema: %v\nwant %s", err, want)
	}
	_, err = latest.Register(ctx, "users", false, userV1)
	want = `use latest version of subject "users-value": schema is not registered: the subject has no registered version (error code 40401); register it or enable auto.register.schemas`
	if !errors.Is(err, ErrNotRegistered) || err.Error() != want {
		t.Errorf("latest of empty subject: %v\nwant %s", err, want)
	}

	auto := newClient(t, srv.URL)
	for _, s := range []string{userV1, userV2} {
		if _, err := auto.Register(ctx, "users", false, s); err != nil {
			t.Fatal(err)
		}
	}
	reg, err := lookup.Register(ctx, "users", false, userV1)
	if err != nil || reg != (Registration{Subject: "users-value", ID: 1, Schema: userV1}) {
		t.Errorf("lookup of v1 = %+v, %v", reg, err)
	}
	_, err = lookup.Register(ctx, "users", false, userBad)
	want = `look up schema under subject "users-value": schema is not registered: the registry does not have it (error code 40403); register it or enable auto.register.schemas`
	if !errors.Is(err, ErrNotRegistered) || err.Error() != want {
		t.Errorf("lookup of unregistered schema in a known subject: %v\nwant %s", err, want)
	}
	// use.latest.version: the latest version's id and schema, whatever schema is given.
	reg, err = latest.Register(ctx, "users", false, userV1)
	if err != nil || reg != (Registration{Subject: "users-value", ID: 2, Schema: userV2N}) {
		t.Errorf("use latest = %+v, %v", reg, err)
	}
	before := calls.count.Load()
	for range 100 {
		_, _ = latest.Register(ctx, "users", false, userV1)
		_, _ = lookup.Register(ctx, "users", false, userV1)
	}
	if n := calls.count.Load() - before; n != 0 {
		t.Errorf("warm lookups made %d requests, want 0", n)
	}
}

func TestRejectedRegistration(t *testing.T) {
	srv, _ := startRegistry(t)
	ctx := context.Background()
	c := newClient(t, srv.URL)
	if _, err := c.Register(ctx, "users", false, userV1); err != nil {
		t.Fatal(err)
	}

	_, err := c.Register(ctx, "users", false, userBad)
	var re *RegistrationError
	if !errors.As(err, &re) || !errors.Is(err, ErrIncompatible) || errors.Is(err, ErrInvalidSchema) || errors.Is(err, ErrUnavailable) {
		t.Fatalf("incompatible registration error = %#v", err)
	}
	if re.Subject != "users-value" || re.StatusCode != 409 || re.ErrorCode != 409 || re.LatestVersion != 1 {
		t.Errorf("RegistrationError = %+v", re)
	}
	want := `register schema under subject "users-value" (latest registered version 1): rejected as incompatible (HTTP 409, error code 409): ` +
		`Schema being registered is incompatible with an earlier schema for subject "users-value", details: [the new schema cannot read data written with version 1: avro: incompatible at age: reader int vs writer : reader field has no default and is missing from writer, {oldSchemaVersion: 1}, {oldSchema: '` + userV1N + `'}, {compatibility: 'BACKWARD'}]`
	if err.Error() != want {
		t.Errorf("message:\n got %s\nwant %s", err, want)
	}

	_, err = c.Register(ctx, "other", false, `{"type":"record","name":"X"}`)
	if !errors.As(err, &re) || !errors.Is(err, ErrInvalidSchema) || errors.Is(err, ErrIncompatible) {
		t.Fatalf("invalid registration error = %#v", err)
	}
	want = `register schema under subject "other-value" (no registered version): rejected as invalid (HTTP 422, error code 42201): Invalid schema {"type":"record","name":"X"}, details: record is missing fields`
	if err.Error() != want {
		t.Errorf("message:\n got %s\nwant %s", err, want)
	}
}

func TestTransientFailures(t *testing.T) {
	ctx := context.Background()
	// Connection refused.
	l := httptest.NewServer(http.NotFoundHandler())
	url := l.URL
	l.Close()
	_, err := newClient(t, url).Register(ctx, "t", false, userV1)
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("connection refused: %v, want ErrUnavailable", err)
	}

	cases := []struct {
		name        string
		status      int
		body        string
		unavailable bool
	}{
		{"store error", 500, `{"error_code":50001,"message":"Error in the backend data store"}`, true},
		{"gateway without JSON", 502, `<html>bad gateway</html>`, true},
		{"rate limited", 429, `{"error_code":429,"message":"slow down"}`, true},
		{"unauthorized", 401, `{"error_code":401,"message":"Unauthorized"}`, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(c.status)
				_, _ = w.Write([]byte(c.body))
			}))
			defer srv.Close()
			_, err := newClient(t, srv.URL).Register(ctx, "t", false, userV1)
			var re *ResponseError
			if !errors.As(err, &re) || re.StatusCode != c.status || errors.Is(err, ErrUnavailable) != c.unavailable {
				t.Errorf("error = %v (status %d), want status %d unavailable=%v", err, re.StatusCode, c.status, c.unavailable)
			}
		})
	}
}

func TestBasicAuth(t *testing.T) {
	srv, _ := startRegistry(t, embedded.WithBasicAuth("sluice", "s3cret"))
	ctx := context.Background()
	reg, err := newClient(t, srv.URL, WithBasicAuth("sluice", "s3cret")).Register(ctx, "t", false, userV1)
	if err != nil || reg.ID != 1 {
		t.Errorf("with credentials: %+v, %v", reg, err)
	}
	_, err = newClient(t, srv.URL, WithBasicAuth("sluice", "wrong")).Register(ctx, "t", false, userV1)
	want := `register schema under subject "t-value": registry answered HTTP 401 (error code 401): Unauthorized`
	if err == nil || err.Error() != want {
		t.Errorf("wrong password: %v, want %s", err, want)
	}
}

func TestTLS(t *testing.T) {
	srv, _ := startRegistry(t)
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Forward to the plain registry.
		req, _ := http.NewRequest(r.Method, srv.URL+r.URL.RequestURI(), r.Body)
		req.Header = r.Header
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			w.WriteHeader(502)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		buf := make([]byte, 64<<10)
		n, _ := resp.Body.Read(buf)
		_, _ = w.Write(buf[:n])
	}))
	defer tlsSrv.Close()
	ctx := context.Background()

	caFile := filepath.Join(t.TempDir(), "ca.pem")
	cert, _ := x509.ParseCertificate(tlsSrv.TLS.Certificates[0].Certificate[0])
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := newClient(t, tlsSrv.URL, WithTLS(TLSConfig{CAFile: caFile})).Register(ctx, "t", false, userV1); err != nil {
		t.Errorf("with CA file: %v", err)
	}
	if _, err := newClient(t, tlsSrv.URL, WithTLS(TLSConfig{InsecureSkipVerify: true})).Register(ctx, "t", false, userV1); err != nil {
		t.Errorf("insecure skip verify: %v", err)
	}
	_, err := newClient(t, tlsSrv.URL).Register(ctx, "t2", false, userV1)
	var verify *tls.CertificateVerificationError
	if !errors.As(err, &verify) || errors.Is(err, ErrUnavailable) {
		t.Errorf("unknown CA: %v, want a permanent certificate verification error", err)
	}
	if _, err := New(tlsSrv.URL, WithTLS(TLSConfig{CertFile: caFile})); err == nil ||
		err.Error() != "schema registry client certificate needs both a certificate file and a key file" {
		t.Errorf("cert without key: %v", err)
	}
}

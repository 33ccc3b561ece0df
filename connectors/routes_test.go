package connectors

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestRoutesServeTheLongestMatchingPath(t *testing.T) {
	r := NewRoutes()
	named := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, name) })
	}
	if _, err := r.Handle("/streams/", named("streams")); err != nil {
		t.Fatal(err)
	}
	removeOrders, err := r.Handle("streams/orders", named("orders"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Handle("/streams/orders/", named("again")); err == nil || err.Error() != "path /streams/orders is already served by another connector" {
		t.Fatalf("a taken path: %v", err)
	}
	if !r.Has("/streams/orders") || r.Has("/streams/order") {
		t.Fatalf("Has: /streams/orders %v, /streams/order %v; want true, false", r.Has("/streams/orders"), r.Has("/streams/order"))
	}
	get := func(path string) (int, string) {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		return w.Code, w.Body.String()
	}
	for _, tc := range []struct {
		path, want string
	}{
		{"/streams/orders", "orders"},
		{"/streams/orders/index.html", "orders"},
		{"/streams/ordersx", "streams"},
		{"/streams", "streams"},
	} {
		if code, body := get(tc.path); code != 200 || body != tc.want {
			t.Errorf("GET %s: %d %q, want 200 %q", tc.path, code, body, tc.want)
		}
	}
	removeOrders()
	if code, body := get("/streams/orders"); code != 200 || body != "streams" {
		t.Errorf("after removing /streams/orders: %d %q, want the parent's handler", code, body)
	}
	if code, body := get(`/other"x`); code != 404 || body != "{\"error_code\": 404, \"message\": \"no stream at /other\\\"x\"}\n" {
		t.Errorf("unknown path: %d %q", code, body)
	}
}

package embedded

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// contentType is what every response is labelled with, as Confluent's registry does.
const contentType = "application/vnd.schemaregistry.v1+json"

// acceptedBodyTypes are the request content types Confluent's registry accepts.
var acceptedBodyTypes = map[string]bool{
	"application/vnd.schemaregistry.v1+json": true,
	"application/vnd.schemaregistry+json":    true,
	"application/json":                       true,
	"application/octet-stream":               true,
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := marshal(v)
	if err != nil {
		writeError(w, errStore("encode response: %v", err))
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeError(w http.ResponseWriter, e *apiError) {
	b, _ := marshal(e)
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(e.Status)
	_, _ = w.Write(b)
}

// marshal encodes v as compact JSON without escaping <, > and & (schemas and messages are
// returned as written, like Confluent's registry does).
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// decodeBody reads a JSON request body of at most limit bytes into v.
func decodeBody(w http.ResponseWriter, req *http.Request, limit int64, v any) *apiError {
	if ct := req.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !acceptedBodyTypes[mt] {
			return newAPIError(http.StatusUnsupportedMediaType, codeUnsupportedMediaType,
				"HTTP 415 Unsupported Media Type: %q; send application/vnd.schemaregistry.v1+json or application/json", ct)
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, limit))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return newAPIError(http.StatusRequestEntityTooLarge, codeRequestEntityTooLarge,
				"Request body is larger than %d bytes", limit)
		}
		return errBadRequest("Read request body: %v", err)
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return errBadRequest("Request body is empty")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return errBadRequest("Malformed JSON request body: %v", err)
	}
	return nil
}

// versionRef is a version path parameter: a number, or the latest version.
type versionRef struct {
	latest bool
	number int
}

// parseVersion accepts "latest", -1 (Confluent's alias for latest) and 1..2^31-1.
func parseVersion(s string) (versionRef, *apiError) {
	if s == "latest" || s == "-1" {
		return versionRef{latest: true}, nil
	}
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil || n < 1 {
		return versionRef{}, errInvalidVersion(s)
	}
	return versionRef{number: int(n)}, nil
}

// boolQuery reads an optional boolean query parameter: true or false in any letter case
// (as Confluent's registry reads them); absent means false, anything else is refused.
func boolQuery(req *http.Request, name string) (bool, *apiError) {
	q := req.URL.Query()
	if !q.Has(name) {
		return false, nil
	}
	switch v := q.Get(name); {
	case strings.EqualFold(v, "true"):
		return true, nil
	case strings.EqualFold(v, "false"):
		return false, nil
	default:
		return false, errBadRequest("Query parameter %s=%q is not a boolean: use true or false", name, v)
	}
}

// checkSubject returns 42208 for a subject name that cannot be stored as written.
func checkSubject(subject string) *apiError {
	if !utf8.ValidString(subject) || strings.ContainsFunc(subject, unicode.IsControl) {
		return errInvalidSubject(subject)
	}
	return nil
}

// methods routes one path by method and answers 405 with an Allow header otherwise.
type methods map[string]func(http.ResponseWriter, *http.Request) *apiError

func (m methods) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	h, ok := m[req.Method]
	if !ok && req.Method == http.MethodHead {
		h, ok = m[http.MethodGet]
	}
	if !ok {
		allow := make([]string, 0, len(m))
		for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
			if m[method] != nil {
				allow = append(allow, method)
			}
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeError(w, newAPIError(http.StatusMethodNotAllowed, codeMethodNotAllowed, "HTTP 405 Method Not Allowed"))
		return
	}
	if err := h(w, req); err != nil {
		writeError(w, err)
	}
}

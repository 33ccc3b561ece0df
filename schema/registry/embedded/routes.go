package embedded

import "net/http"

// routes maps Confluent's Schema Registry API paths to handlers. Path wildcards match one
// escaped segment, so subjects containing "/" are addressed as %2F.
func (r *Registry) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/{$}", methods{http.MethodGet: r.root})
	mux.Handle("/subjects", methods{http.MethodGet: r.listSubjects})
	mux.Handle("/subjects/{subject}", methods{http.MethodPost: r.lookup, http.MethodDelete: r.deleteSubject})
	mux.Handle("/subjects/{subject}/versions", methods{http.MethodGet: r.listVersions, http.MethodPost: r.register})
	mux.Handle("/subjects/{subject}/versions/{version}", methods{http.MethodGet: r.getVersion, http.MethodDelete: r.deleteVersion})
	mux.Handle("/subjects/{subject}/versions/{version}/schema", methods{http.MethodGet: r.getVersionSchema})
	mux.Handle("/schemas/types", methods{http.MethodGet: r.schemaTypes})
	mux.Handle("/schemas/ids/{id}", methods{http.MethodGet: r.getSchemaByID})
	mux.Handle("/schemas/ids/{id}/schema", methods{http.MethodGet: r.getRawSchemaByID})
	mux.Handle("/schemas/ids/{id}/subjects", methods{http.MethodGet: r.getSubjectsByID})
	mux.Handle("/schemas/ids/{id}/versions", methods{http.MethodGet: r.getVersionsByID})
	mux.Handle("/config", methods{http.MethodGet: r.getGlobalConfig, http.MethodPut: r.putGlobalConfig})
	mux.Handle("/config/{subject}", methods{http.MethodGet: r.getSubjectConfig, http.MethodPut: r.putSubjectConfig, http.MethodDelete: r.deleteSubjectConfig})
	mux.Handle("/compatibility/subjects/{subject}/versions", methods{http.MethodPost: r.checkCompatibility})
	mux.Handle("/compatibility/subjects/{subject}/versions/{version}", methods{http.MethodPost: r.checkCompatibility})
	mux.Handle("/mode", methods{http.MethodGet: r.getMode})
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, newAPIError(http.StatusNotFound, codeNotFound, "HTTP 404 Not Found"))
	})
	return mux
}

func (r *Registry) root(w http.ResponseWriter, _ *http.Request) *apiError {
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

func (r *Registry) getMode(w http.ResponseWriter, _ *http.Request) *apiError {
	writeJSON(w, http.StatusOK, map[string]string{"mode": "READWRITE"})
	return nil
}

func (r *Registry) schemaTypes(w http.ResponseWriter, _ *http.Request) *apiError {
	writeJSON(w, http.StatusOK, []string{schemaTypeAvro})
	return nil
}

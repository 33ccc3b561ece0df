package embedded

import "net/http"

// route is one path of Confluent's Schema Registry API and the handler of each of its methods.
type route struct {
	path    string
	methods methods
}

// table lists every path the registry serves; testdata/openapi.json describes each of them.
// Path wildcards match one escaped segment, so subjects containing "/" are addressed as %2F.
func (r *Registry) table() []route {
	return []route{
		{"/{$}", methods{http.MethodGet: r.root}},
		{"/subjects", methods{http.MethodGet: r.listSubjects}},
		{"/subjects/{subject}", methods{http.MethodPost: r.lookup, http.MethodDelete: r.deleteSubject}},
		{"/subjects/{subject}/versions", methods{http.MethodGet: r.listVersions, http.MethodPost: r.register}},
		{"/subjects/{subject}/versions/{version}", methods{http.MethodGet: r.getVersion, http.MethodDelete: r.deleteVersion}},
		{"/subjects/{subject}/versions/{version}/schema", methods{http.MethodGet: r.getVersionSchema}},
		{"/schemas/types", methods{http.MethodGet: r.schemaTypes}},
		{"/schemas/ids/{id}", methods{http.MethodGet: r.getSchemaByID}},
		{"/schemas/ids/{id}/schema", methods{http.MethodGet: r.getRawSchemaByID}},
		{"/schemas/ids/{id}/subjects", methods{http.MethodGet: r.getSubjectsByID}},
		{"/schemas/ids/{id}/versions", methods{http.MethodGet: r.getVersionsByID}},
		{"/config", methods{http.MethodGet: r.getGlobalConfig, http.MethodPut: r.putGlobalConfig}},
		{"/config/{subject}", methods{http.MethodGet: r.getSubjectConfig, http.MethodPut: r.putSubjectConfig, http.MethodDelete: r.deleteSubjectConfig}},
		{"/compatibility/subjects/{subject}/versions", methods{http.MethodPost: r.checkCompatibility}},
		{"/compatibility/subjects/{subject}/versions/{version}", methods{http.MethodPost: r.checkCompatibility}},
		{"/mode", methods{http.MethodGet: r.getMode}},
	}
}

// routes serves the table, and 404 on any other path.
func (r *Registry) routes() *http.ServeMux {
	mux := http.NewServeMux()
	for _, rt := range r.table() {
		mux.Handle(rt.path, rt.methods)
	}
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

package embedded

import "net/http"

// compatibilityResponse is the answer of POST /compatibility/...; messages are present only
// with ?verbose=true.
type compatibilityResponse struct {
	IsCompatible bool     `json:"is_compatible"`
	Messages     []string `json:"messages,omitzero"`
}

// checkCompatibility answers POST /compatibility/subjects/{subject}/versions[/{version}]:
// against one named version, against "latest" (all live versions for transitive levels), or,
// without a version, against every version the level requires. Nothing is written.
func (r *Registry) checkCompatibility(w http.ResponseWriter, req *http.Request) *apiError {
	subject := req.PathValue("subject")
	var ref versionRef
	named := req.PathValue("version") != ""
	if named {
		var err *apiError
		if ref, err = parseVersion(req.PathValue("version")); err != nil {
			return err
		}
	}
	verbose, err := boolQuery(req, "verbose")
	if err != nil {
		return err
	}
	sch, err := r.readSchema(w, req)
	if err != nil {
		return err
	}
	r.mu.RLock()
	level := r.st.effectiveLevel(subject)
	olds := r.liveSchemas(subject)
	var target versionState
	if named && !ref.latest {
		target, err = r.st.version(subject, ref, false)
	}
	r.mu.RUnlock()
	if err != nil {
		return err
	}
	if named && !ref.latest {
		for _, o := range olds {
			if o.number == target.number {
				olds = []storedVersion{o}
			}
		}
	}
	msgs, err := r.compatibility(level, sch, olds)
	if err != nil {
		return err
	}
	resp := compatibilityResponse{IsCompatible: msgs == nil}
	if verbose {
		resp.Messages = msgs
		if resp.Messages == nil {
			resp.Messages = []string{}
		}
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

package embedded

import (
	"context"
	"net/http"
	"strconv"
)

// schemaByID finds a schema by the id in the path. An id this process has not read yet
// (registered through another process sharing the topic a moment ago) is looked up again
// after reading the topic up to its current end.
func (r *Registry) schemaByID(req *http.Request) (int, *storedSchema, *apiError) {
	raw := req.PathValue("id")
	id, err := strconv.Atoi(raw)
	if err != nil || id < 1 {
		return 0, nil, newAPIError(http.StatusNotFound, codeSchemaNotFound, "Schema %q not found", raw)
	}
	r.mu.RLock()
	sch, ok := r.st.schemaByID(id)
	r.mu.RUnlock()
	if ok {
		return id, sch, nil
	}
	ctx, cancel := context.WithTimeout(req.Context(), r.cfg.writeTimeout)
	defer cancel()
	if err := r.store.catchUp(ctx); err != nil {
		r.cfg.log.Warn("read schema topic to its end to look up a schema id", "id", id, "error", err)
	}
	r.mu.RLock()
	sch, ok = r.st.schemaByID(id)
	r.mu.RUnlock()
	if !ok {
		return 0, nil, errSchemaIDNotFound(id)
	}
	return id, sch, nil
}

func (r *Registry) getSchemaByID(w http.ResponseWriter, req *http.Request) *apiError {
	_, sch, err := r.schemaByID(req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		SchemaType string `json:"schemaType,omitempty"`
		Schema     string `json:"schema"`
	}{renderType(sch.typ), sch.text})
	return nil
}

func (r *Registry) getRawSchemaByID(w http.ResponseWriter, req *http.Request) *apiError {
	_, sch, err := r.schemaByID(req)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", contentType)
	_, _ = w.Write([]byte(sch.text))
	return nil
}

func (r *Registry) getSubjectsByID(w http.ResponseWriter, req *http.Request) *apiError {
	uses, err := r.usesByID(req)
	if err != nil {
		return err
	}
	names := []string{}
	for _, u := range uses {
		if len(names) == 0 || names[len(names)-1] != u.Subject {
			names = append(names, u.Subject)
		}
	}
	writeJSON(w, http.StatusOK, names)
	return nil
}

func (r *Registry) getVersionsByID(w http.ResponseWriter, req *http.Request) *apiError {
	uses, err := r.usesByID(req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, uses)
	return nil
}

// usesByID lists the subject versions holding the schema id in the path; 40403 when none.
func (r *Registry) usesByID(req *http.Request) ([]subjectVersion, *apiError) {
	deleted, err := boolQuery(req, "deleted")
	if err != nil {
		return nil, err
	}
	id, _, err := r.schemaByID(req)
	if err != nil {
		return nil, err
	}
	r.mu.RLock()
	uses := r.st.usesOf(id, deleted)
	r.mu.RUnlock()
	if len(uses) == 0 {
		return nil, errSchemaIDNotFound(id)
	}
	return uses, nil
}

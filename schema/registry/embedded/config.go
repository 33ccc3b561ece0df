package embedded

import (
	"net/http"
)

// configRequest is the body of PUT /config and PUT /config/{subject}.
type configRequest struct {
	Compatibility string `json:"compatibility"`
}

func (r *Registry) getGlobalConfig(w http.ResponseWriter, _ *http.Request) *apiError {
	r.mu.RLock()
	level := r.st.global
	r.mu.RUnlock()
	writeJSON(w, http.StatusOK, map[string]Level{"compatibilityLevel": level})
	return nil
}

func (r *Registry) putGlobalConfig(w http.ResponseWriter, req *http.Request) *apiError {
	return r.putConfig(w, req, "")
}

func (r *Registry) putSubjectConfig(w http.ResponseWriter, req *http.Request) *apiError {
	subject := req.PathValue("subject")
	if err := checkSubject(subject); err != nil {
		return err
	}
	return r.putConfig(w, req, subject)
}

// putConfig sets the level of a subject, or the global level when subject is "".
func (r *Registry) putConfig(w http.ResponseWriter, req *http.Request, subject string) *apiError {
	var body configRequest
	if err := decodeBody(w, req, r.cfg.maxBody, &body); err != nil {
		return err
	}
	level, ok := parseLevel(body.Compatibility)
	if !ok {
		return errInvalidCompatibility(body.Compatibility)
	}
	out, err := r.write(req.Context(), command{Op: opSetConfig, Subject: subject, Level: level})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]Level{"compatibility": out.level})
	return nil
}

// getSubjectConfig answers the subject's own level; with defaultToGlobal=true, the global
// level when the subject has none.
func (r *Registry) getSubjectConfig(w http.ResponseWriter, req *http.Request) *apiError {
	subject := req.PathValue("subject")
	toGlobal, err := boolQuery(req, "defaultToGlobal")
	if err != nil {
		return err
	}
	r.mu.RLock()
	level := r.st.subjectLevel(subject)
	if level == "" && toGlobal {
		level = r.st.global
	}
	r.mu.RUnlock()
	if level == "" {
		return errSubjectConfigNotFound(subject)
	}
	writeJSON(w, http.StatusOK, map[string]Level{"compatibilityLevel": level})
	return nil
}

// deleteSubjectConfig removes the subject's own level and answers the level it had. A subject
// without a level of its own is 40401 here, as in Confluent's registry (GET answers 40408).
func (r *Registry) deleteSubjectConfig(w http.ResponseWriter, req *http.Request) *apiError {
	subject := req.PathValue("subject")
	r.mu.RLock()
	level := r.st.subjectLevel(subject)
	r.mu.RUnlock()
	if level == "" {
		return errSubjectNotFound(subject)
	}
	out, err := r.write(req.Context(), command{Op: opDeleteConfig, Subject: subject})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]Level{"compatibilityLevel": out.level})
	return nil
}

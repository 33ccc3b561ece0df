package embedded

import (
	"context"
	"net/http"
	"strings"
)

func (r *Registry) listSubjects(w http.ResponseWriter, req *http.Request) *apiError {
	deleted, err := boolQuery(req, "deleted")
	if err != nil {
		return err
	}
	r.mu.RLock()
	names := r.st.subjectNames(deleted)
	r.mu.RUnlock()
	writeJSON(w, http.StatusOK, names)
	return nil
}

func (r *Registry) listVersions(w http.ResponseWriter, req *http.Request) *apiError {
	deleted, err := boolQuery(req, "deleted")
	if err != nil {
		return err
	}
	r.mu.RLock()
	vs, err := r.st.versions(req.PathValue("subject"), deleted)
	r.mu.RUnlock()
	if err != nil {
		return err
	}
	numbers := make([]int, len(vs))
	for i, v := range vs {
		numbers[i] = v.number
	}
	writeJSON(w, http.StatusOK, numbers)
	return nil
}

// resolveVersion looks up a subject version named in the path, with its schema.
func (r *Registry) resolveVersion(req *http.Request) (versionResponse, *apiError) {
	subject := req.PathValue("subject")
	ref, err := parseVersion(req.PathValue("version"))
	if err != nil {
		return versionResponse{}, err
	}
	deleted, err := boolQuery(req, "deleted")
	if err != nil {
		return versionResponse{}, err
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	v, err := r.st.version(subject, ref, deleted)
	if err != nil {
		return versionResponse{}, err
	}
	sch := r.st.ids[v.id]
	return versionResponse{Subject: subject, Version: v.number, ID: v.id, SchemaType: renderType(sch.typ), Schema: sch.text}, nil
}

func (r *Registry) getVersion(w http.ResponseWriter, req *http.Request) *apiError {
	v, err := r.resolveVersion(req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (r *Registry) getVersionSchema(w http.ResponseWriter, req *http.Request) *apiError {
	v, err := r.resolveVersion(req)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", contentType)
	_, _ = w.Write([]byte(v.Schema))
	return nil
}

// lookup answers POST /subjects/{subject}: is this schema registered under the subject?
func (r *Registry) lookup(w http.ResponseWriter, req *http.Request) *apiError {
	subject := req.PathValue("subject")
	deleted, err := boolQuery(req, "deleted")
	if err != nil {
		return err
	}
	sch, err := r.readSchema(w, req)
	if err != nil {
		return err
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if _, err := r.st.versions(subject, deleted); err != nil {
		return err
	}
	v, ok := r.st.findVersion(subject, schemaTypeAvro, sch.text, deleted)
	if !ok {
		return errSchemaNotFound()
	}
	writeJSON(w, http.StatusOK, versionResponse{Subject: subject, Version: v.number, ID: v.id, Schema: sch.text})
	return nil
}

// register answers POST /subjects/{subject}/versions. A schema already live under the subject
// returns its id without a write; otherwise the schema is checked for compatibility against
// the subject as this process sees it, and a REGISTER command is written (see store). When
// another process changed the subject first, the check and the write are repeated.
func (r *Registry) register(w http.ResponseWriter, req *http.Request) *apiError {
	subject := req.PathValue("subject")
	if err := checkSubject(subject); err != nil {
		return err
	}
	sch, err := r.readSchema(w, req)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(req.Context(), r.cfg.writeTimeout)
	defer cancel()
	for range r.cfg.maxRegisterRetries {
		r.mu.RLock()
		existing, found := r.st.liveVersion(subject, schemaTypeAvro, sch.text)
		level := r.st.effectiveLevel(subject)
		basis := r.st.revision(subject)
		olds := r.liveSchemas(subject)
		r.mu.RUnlock()
		if found {
			writeJSON(w, http.StatusOK, map[string]int{"id": existing.id})
			return nil
		}
		msgs, err := r.compatibility(level, sch, olds)
		if err != nil {
			return err
		}
		if msgs != nil {
			return newAPIError(http.StatusConflict, codeIncompatibleSchema,
				"Schema being registered is incompatible with an earlier schema for subject \"%s\", details: [%s]",
				subject, strings.Join(msgs, ", "))
		}
		out, err := r.store.propose(ctx, command{
			Op: opRegister, Subject: subject, Schema: sch.text, SchemaType: schemaTypeAvro, Basis: basis, Level: level,
		})
		if err != nil {
			return err
		}
		if out.err != nil {
			return out.err
		}
		if !out.conflict {
			writeJSON(w, http.StatusOK, map[string]int{"id": out.id})
			return nil
		}
		r.cfg.log.Debug("schema registration raced with a concurrent change, checking again", "subject", subject)
	}
	return errStore("Could not register a schema under subject '%s': it changed concurrently %d times in a row",
		subject, r.cfg.maxRegisterRetries)
}

// storedVersion is a live version's number and schema text, for compatibility checks.
type storedVersion struct {
	number int
	text   string
}

// liveSchemas lists the subject's live versions, ascending. Callers hold r.mu.
func (r *Registry) liveSchemas(subject string) []storedVersion {
	vs, err := r.st.versions(subject, false)
	if err != nil {
		return nil
	}
	out := make([]storedVersion, len(vs))
	for i, v := range vs {
		out[i] = storedVersion{number: v.number, text: r.st.ids[v.id].text}
	}
	return out
}

// compatibility parses the stored versions and checks the candidate against them.
func (r *Registry) compatibility(level Level, candidate requestSchema, olds []storedVersion) ([]string, *apiError) {
	if level == LevelNone || len(olds) == 0 {
		return nil, nil
	}
	if !level.transitive() {
		olds = olds[len(olds)-1:]
	}
	prev := make([]previous, len(olds))
	for i, o := range olds {
		s, err := parseStored(o.text)
		if err != nil {
			return nil, errStore("Parse stored schema of version %d: %v", o.number, err)
		}
		prev[i] = previous{version: o.number, schema: s, text: o.text}
	}
	return checkCompatibility(level, candidate.avro, prev), nil
}

func (r *Registry) deleteSubject(w http.ResponseWriter, req *http.Request) *apiError {
	subject := req.PathValue("subject")
	permanent, err := boolQuery(req, "permanent")
	if err != nil {
		return err
	}
	r.mu.RLock()
	err = r.st.checkDeleteSubject(subject, permanent)
	r.mu.RUnlock()
	if err != nil {
		return err
	}
	out, err := r.write(req.Context(), command{Op: opDeleteSubject, Subject: subject, Permanent: permanent})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out.versions)
	return nil
}

func (r *Registry) deleteVersion(w http.ResponseWriter, req *http.Request) *apiError {
	subject := req.PathValue("subject")
	ref, err := parseVersion(req.PathValue("version"))
	if err != nil {
		return err
	}
	permanent, err := boolQuery(req, "permanent")
	if err != nil {
		return err
	}
	r.mu.RLock()
	number := ref.number
	if ref.latest {
		// A soft delete of "latest" means the latest live version; a hard delete the latest
		// version, soft-deleted or not.
		var v versionState
		v, err = r.st.version(subject, ref, permanent)
		number = v.number
	}
	if err == nil {
		err = r.st.checkDeleteVersion(subject, number, permanent)
	}
	r.mu.RUnlock()
	if err != nil {
		return err
	}
	out, err := r.write(req.Context(), command{Op: opDeleteVersion, Subject: subject, Version: number, Permanent: permanent})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out.version)
	return nil
}

// write proposes a command that is not compatibility-checked and returns its outcome.
func (r *Registry) write(ctx context.Context, c command) (outcome, *apiError) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.writeTimeout)
	defer cancel()
	out, err := r.store.propose(ctx, c)
	if err != nil {
		return outcome{}, err
	}
	if out.err != nil {
		return outcome{}, out.err
	}
	return out, nil
}

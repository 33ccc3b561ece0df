package embedded

import (
	"slices"
	"sort"
)

// state is the registry as materialized from the command log. apply is a pure function of
// the state and the command: it reads only the command's fields (never the clock, never a
// parser), so every reader that applies the same log gets the same ids and versions.
//
// Not safe for concurrent use; Registry guards it with its mutex.
type state struct {
	global   Level
	nextID   int
	ids      map[int]*storedSchema // schema id → schema, never removed (ids are not reused)
	byText   map[schemaKey]int     // type + normalized text → id
	subjects map[string]*subjectState
}

type schemaKey struct{ typ, text string }

type storedSchema struct {
	typ  string
	text string
	// uses counts subject versions (live or soft-deleted) with this id; a schema whose every
	// version was hard-deleted is not served by id any more, but keeps its id if registered again.
	uses int
}

type subjectState struct {
	versions []versionState // ascending by number; hard-deleted versions are removed
	level    Level          // "" when the subject uses the global level
	// rev changes whenever the subject's versions change. It is never reset, not even by a
	// hard delete, so a REGISTER proposal checked against an older revision is always detected.
	rev int64
}

type versionState struct {
	number  int
	id      int
	deleted bool
}

// outcome is what applying one command produced, handed to the process that proposed it.
type outcome struct {
	id       int
	version  int
	versions []int
	level    Level
	conflict bool // REGISTER: the subject or its level changed since the proposer checked
	err      *apiError
}

func newState(global Level) *state {
	return &state{
		global:   global,
		nextID:   1,
		ids:      map[int]*storedSchema{},
		byText:   map[schemaKey]int{},
		subjects: map[string]*subjectState{},
	}
}

// apply changes the state by one command and reports the outcome.
func (s *state) apply(c command) outcome {
	switch c.Op {
	case opRegister:
		return s.applyRegister(c)
	case opDeleteSubject:
		return s.applyDeleteSubject(c)
	case opDeleteVersion:
		return s.applyDeleteVersion(c)
	case opSetConfig:
		return s.applySetConfig(c)
	case opDeleteConfig:
		return s.applyDeleteConfig(c)
	}
	return outcome{err: errStore("unknown command %q", c.Op)}
}

func (s *state) subject(name string) *subjectState {
	sub := s.subjects[name]
	if sub == nil {
		sub = &subjectState{}
		s.subjects[name] = sub
	}
	return sub
}

func (s *state) applyRegister(c command) outcome {
	if c.Subject == "" || c.Schema == "" || c.SchemaType == "" {
		return outcome{err: errStore("malformed %s command for subject %q", opRegister, c.Subject)}
	}
	// A text written by an earlier release may be normalized otherwise: normalize it as
	// this one does, so that registering the same schema again still finds its id.
	if _, text, err := parseAvro(c.Schema); err == nil {
		c.Schema = text
	}
	if v, ok := s.liveVersion(c.Subject, c.SchemaType, c.Schema); ok {
		return outcome{id: v.id, version: v.number}
	}
	sub := s.subject(c.Subject)
	if sub.rev != c.Basis || s.effectiveLevel(c.Subject) != c.Level {
		return outcome{conflict: true}
	}
	key := schemaKey{c.SchemaType, c.Schema}
	id, ok := s.byText[key]
	if !ok {
		id = s.nextID
		s.nextID++
		s.byText[key] = id
		s.ids[id] = &storedSchema{typ: c.SchemaType, text: c.Schema}
	}
	s.ids[id].uses++
	number := 1
	if n := len(sub.versions); n > 0 {
		number = sub.versions[n-1].number + 1
	}
	sub.versions = append(sub.versions, versionState{number: number, id: id})
	sub.rev++
	return outcome{id: id, version: number}
}

// checkDeleteSubject returns the error a DELETE_SUBJECT command would end with, if any.
func (s *state) checkDeleteSubject(subject string, permanent bool) *apiError {
	sub := s.subjects[subject]
	if sub == nil || len(sub.versions) == 0 {
		return errSubjectNotFound(subject)
	}
	live := slices.ContainsFunc(sub.versions, func(v versionState) bool { return !v.deleted })
	switch {
	case !permanent && !live:
		return errSubjectSoftDeleted(subject)
	case permanent && live:
		return errSubjectNotSoftDeleted(subject)
	}
	return nil
}

func (s *state) applyDeleteSubject(c command) outcome {
	if err := s.checkDeleteSubject(c.Subject, c.Permanent); err != nil {
		return outcome{err: err}
	}
	sub := s.subjects[c.Subject]
	var deleted []int
	for i, v := range sub.versions {
		if c.Permanent {
			s.ids[v.id].uses--
		}
		if c.Permanent || !v.deleted {
			deleted = append(deleted, v.number)
		}
		sub.versions[i].deleted = true
	}
	if c.Permanent {
		sub.versions = nil
		sub.level = ""
	}
	sub.rev++
	return outcome{versions: deleted}
}

// checkDeleteVersion returns the error a DELETE_VERSION command would end with, if any.
func (s *state) checkDeleteVersion(subject string, version int, permanent bool) *apiError {
	sub := s.subjects[subject]
	if sub == nil || len(sub.versions) == 0 {
		return errSubjectNotFound(subject)
	}
	i := slices.IndexFunc(sub.versions, func(v versionState) bool { return v.number == version })
	switch {
	case i < 0:
		return errVersionNotFound(version)
	case !permanent && sub.versions[i].deleted:
		return errVersionSoftDeleted(subject, version)
	case permanent && !sub.versions[i].deleted:
		return errVersionNotSoftDeleted(subject, version)
	}
	return nil
}

func (s *state) applyDeleteVersion(c command) outcome {
	if err := s.checkDeleteVersion(c.Subject, c.Version, c.Permanent); err != nil {
		return outcome{err: err}
	}
	sub := s.subjects[c.Subject]
	i := slices.IndexFunc(sub.versions, func(v versionState) bool { return v.number == c.Version })
	if c.Permanent {
		s.ids[sub.versions[i].id].uses--
		sub.versions = slices.Delete(sub.versions, i, i+1)
	} else {
		sub.versions[i].deleted = true
	}
	sub.rev++
	return outcome{version: c.Version}
}

func (s *state) applySetConfig(c command) outcome {
	if c.Subject == "" {
		s.global = c.Level
	} else {
		s.subject(c.Subject).level = c.Level
	}
	return outcome{level: c.Level}
}

func (s *state) applyDeleteConfig(c command) outcome {
	sub := s.subjects[c.Subject]
	if sub == nil || sub.level == "" {
		return outcome{err: errSubjectNotFound(c.Subject)}
	}
	prev := sub.level
	sub.level = ""
	return outcome{level: prev}
}

// subjectLevel returns the subject's own level, "" when it has none.
func (s *state) subjectLevel(subject string) Level {
	if sub := s.subjects[subject]; sub != nil {
		return sub.level
	}
	return ""
}

// Read-side helpers, used by the HTTP handlers under the registry's read lock.

func (s *state) effectiveLevel(subject string) Level {
	if sub := s.subjects[subject]; sub != nil && sub.level != "" {
		return sub.level
	}
	return s.global
}

func (s *state) revision(subject string) int64 {
	if sub := s.subjects[subject]; sub != nil {
		return sub.rev
	}
	return 0
}

// liveVersion finds the live version of subject holding this schema.
func (s *state) liveVersion(subject, typ, text string) (versionState, bool) {
	return s.findVersion(subject, typ, text, false)
}

// findVersion finds the newest version of subject holding this schema, soft-deleted ones
// included when includeDeleted.
func (s *state) findVersion(subject, typ, text string, includeDeleted bool) (versionState, bool) {
	id, ok := s.byText[schemaKey{typ, text}]
	sub := s.subjects[subject]
	if !ok || sub == nil {
		return versionState{}, false
	}
	for i := len(sub.versions) - 1; i >= 0; i-- {
		if v := sub.versions[i]; v.id == id && (includeDeleted || !v.deleted) {
			return v, true
		}
	}
	return versionState{}, false
}

// subjectNames lists subjects with at least one live version (or any version when
// includeDeleted), sorted.
func (s *state) subjectNames(includeDeleted bool) []string {
	names := []string{}
	for name, sub := range s.subjects {
		if slices.ContainsFunc(sub.versions, func(v versionState) bool { return includeDeleted || !v.deleted }) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// versions returns the subject's versions, or 40401 when it has none visible.
func (s *state) versions(subject string, includeDeleted bool) ([]versionState, *apiError) {
	sub := s.subjects[subject]
	if sub == nil {
		return nil, errSubjectNotFound(subject)
	}
	var out []versionState
	for _, v := range sub.versions {
		if includeDeleted || !v.deleted {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		return nil, errSubjectNotFound(subject)
	}
	return out, nil
}

// version resolves a version reference (latest when ref.latest) within the visible versions.
func (s *state) version(subject string, ref versionRef, includeDeleted bool) (versionState, *apiError) {
	vs, err := s.versions(subject, includeDeleted)
	if err != nil {
		return versionState{}, err
	}
	if ref.latest {
		return vs[len(vs)-1], nil
	}
	for _, v := range vs {
		if v.number == ref.number {
			return v, nil
		}
	}
	return versionState{}, errVersionNotFound(ref.number)
}

// schemaByID returns a schema that at least one subject version still references.
func (s *state) schemaByID(id int) (*storedSchema, bool) {
	sch, ok := s.ids[id]
	if !ok || sch.uses == 0 {
		return nil, false
	}
	return sch, true
}

// usesOf lists the subject versions with the given id, sorted by subject then version.
func (s *state) usesOf(id int, includeDeleted bool) []subjectVersion {
	out := []subjectVersion{}
	for name, sub := range s.subjects {
		for _, v := range sub.versions {
			if v.id == id && (includeDeleted || !v.deleted) {
				out = append(out, subjectVersion{Subject: name, Version: v.number})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Subject != out[j].Subject {
			return out[i].Subject < out[j].Subject
		}
		return out[i].Version < out[j].Version
	})
	return out
}

type subjectVersion struct {
	Subject string `json:"subject"`
	Version int    `json:"version"`
}

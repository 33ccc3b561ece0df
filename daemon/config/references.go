package config

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// reference matches ${env:NAME} and ${file:/path:key} inside a value.
var reference = regexp.MustCompile(`\$\{(env|file):([^}]*)\}`)

// HasReference reports whether v contains a ${env:...} or ${file:...}
// reference.
func HasReference(v string) bool { return reference.MatchString(v) }

// Resolver resolves the references of connector config values, as Kafka
// Connect's config providers do:
//
//   - ${env:NAME} is the value of the environment variable NAME; variables
//     starting with SLUICE_ are the daemon's own settings and are refused.
//   - ${file:/path:key} is the value of key in the file at /path, read as a
//     JSON object of strings when it ends in .json and as Java properties
//     (key=value or key: value lines, # and ! comments) otherwise. The path
//     must be absolute and lie under one of AllowedPaths after symbolic
//     links are followed.
//
// A value may hold several references and text around them.
type Resolver struct {
	// LookupEnv reads an environment variable (os.LookupEnv).
	LookupEnv func(string) (string, bool)
	// AllowedPaths are the files or directories ${file:...} may read
	// (config.providers.file.allowed.paths).
	AllowedPaths []string
}

// NewResolver returns the resolver the daemon config describes, reading
// the process environment.
func NewResolver(d *Daemon) *Resolver {
	return &Resolver{LookupEnv: os.LookupEnv, AllowedPaths: d.ConfigProviders.File.AllowedPaths}
}

// Resolve returns v with every reference replaced by its value, or an error
// saying which reference failed and why (never containing a secret).
func (r *Resolver) Resolve(v string) (string, error) {
	var firstErr error
	out := reference.ReplaceAllStringFunc(v, func(ref string) string {
		m := reference.FindStringSubmatch(ref)
		val, err := r.resolveOne(m[1], m[2])
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("cannot resolve %s: %w", ref, err)
		}
		return val
	})
	if firstErr != nil {
		return "", firstErr
	}
	return out, nil
}

func (r *Resolver) resolveOne(provider, arg string) (string, error) {
	if provider == "env" {
		if arg == "" {
			return "", fmt.Errorf("no variable named")
		}
		if strings.HasPrefix(arg, "SLUICE_") {
			return "", fmt.Errorf("variables starting with SLUICE_ hold the daemon's own settings and cannot be referenced")
		}
		lookup := r.LookupEnv
		if lookup == nil {
			lookup = os.LookupEnv
		}
		val, ok := lookup(arg)
		if !ok {
			return "", fmt.Errorf("environment variable %s is not set", arg)
		}
		return val, nil
	}
	i := strings.LastIndex(arg, ":")
	if i <= 0 || i == len(arg)-1 {
		return "", fmt.Errorf("want ${file:/path:key}")
	}
	path, key := arg[:i], arg[i+1:]
	real, err := r.allowed(path)
	if err != nil {
		return "", err
	}
	data, err := os.ReadFile(real)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	values, err := parseSecretsFile(path, data)
	if err != nil {
		return "", err
	}
	val, ok := values[key]
	if !ok {
		return "", fmt.Errorf("%s has no key %q", path, key)
	}
	return val, nil
}

// allowed returns the real path of path if it lies under an allowed path,
// both as written and once symbolic links are followed. Whether a refused
// file exists is not revealed.
func (r *Resolver) allowed(path string) (string, error) {
	if !filepath.IsAbs(path) {
		return "", fmt.Errorf("the path must be absolute")
	}
	if len(r.AllowedPaths) == 0 {
		return "", fmt.Errorf("file references are disabled: list the directories they may read in config.providers.file.allowed.paths")
	}
	refused := fmt.Errorf("%s is not under config.providers.file.allowed.paths", path)
	if !r.under(filepath.Clean(path), filepath.Clean) {
		return "", refused
	}
	real, err := filepath.EvalSymlinks(filepath.Clean(path))
	if err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	real2 := func(p string) string {
		e, err := filepath.EvalSymlinks(filepath.Clean(p))
		if err != nil {
			return filepath.Clean(p)
		}
		return e
	}
	if !r.under(real, real2) {
		return "", refused
	}
	return real, nil
}

// under reports whether path is one of the allowed paths or inside one,
// each allowed path mapped by norm first.
func (r *Resolver) under(path string, norm func(string) string) bool {
	for _, a := range r.AllowedPaths {
		rel, err := filepath.Rel(norm(a), path)
		if err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// parseSecretsFile reads a JSON object of strings (for .json files) or Java
// properties.
func parseSecretsFile(path string, data []byte) (map[string]string, error) {
	if strings.HasSuffix(path, ".json") {
		var m map[string]string
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("%s is not a JSON object of strings", path)
		}
		return m, nil
	}
	m := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		i := strings.IndexAny(line, "=:")
		if i < 0 {
			m[line] = ""
			continue
		}
		m[strings.TrimSpace(line[:i])] = strings.TrimSpace(line[i+1:])
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return m, nil
}

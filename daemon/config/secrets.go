package config

import (
	"maps"
	"strings"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/conf"
)

// Hidden replaces a secret value wherever a configuration is shown.
const Hidden = "[hidden]"

// secretWords mark key names whose values are secret whatever their
// declared type.
var secretWords = []string{"password", "passwd", "secret", "token", "credential", "sasl.jaas.config", "api.key", "apikey", "private.key"}

// IsSecret reports whether a key's value must be hidden: its type is
// conf.Password in the class's spec (class may be nil), or its name looks
// like a secret's.
func IsSecret(class *connectors.Class, key string) bool {
	if class != nil && class.Spec != nil {
		if k, ok := class.Spec.Lookup(key); ok && k.Type == conf.Password {
			return true
		}
	}
	lk := strings.ToLower(key)
	for _, w := range secretWords {
		if strings.Contains(lk, w) {
			return true
		}
	}
	return false
}

// Mask returns a copy of cfg fit to show: every secret value becomes
// Hidden, unless it holds a ${...} reference, which is shown as written.
func Mask(class *connectors.Class, cfg map[string]string) map[string]string {
	out := maps.Clone(cfg)
	for k, v := range out {
		if IsSecret(class, k) && !HasReference(v) && v != "" {
			out[k] = Hidden
		}
	}
	return out
}

// Unmask returns next with every Hidden value of a secret key replaced by
// the value prev holds for it, so that a configuration read through the API
// (masked) can be sent back unchanged without erasing its secrets.
func Unmask(class *connectors.Class, prev, next map[string]string) map[string]string {
	out := maps.Clone(next)
	for k, v := range out {
		if old, ok := prev[k]; ok && v == Hidden && IsSecret(class, k) {
			out[k] = old
		}
	}
	return out
}

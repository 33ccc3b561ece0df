package config

import (
	"strconv"
	"strings"
)

// Problem is one thing wrong with a configuration, tied to where it is: the
// file (or environment variable), the connector and the key.
type Problem struct {
	// File is the daemon config file, the connector file, or "environment"
	// for a SLUICE_* variable; empty for a REST request body.
	File string
	// Connector is the connector's name; empty in the daemon config.
	Connector string
	// Key is the configuration key (a dotted path in the daemon config).
	Key     string
	Message string
}

// Error renders the problem as "file: connector "name": key: message",
// leaving out the parts that are empty.
func (p Problem) Error() string {
	var parts []string
	if p.File != "" {
		parts = append(parts, p.File)
	}
	if p.Connector != "" {
		parts = append(parts, "connector "+strconv.Quote(p.Connector))
	}
	if p.Key != "" {
		parts = append(parts, p.Key)
	}
	return strings.Join(append(parts, p.Message), ": ")
}

// Problems is every problem found; as an error it lists them all.
type Problems []Problem

func (ps Problems) Error() string {
	msgs := make([]string, len(ps))
	for i, p := range ps {
		msgs[i] = p.Error()
	}
	return strings.Join(msgs, "; ")
}

// in sets File and Connector on every problem that has none.
func (ps Problems) in(file, connector string) Problems {
	for i := range ps {
		if ps[i].File == "" {
			ps[i].File = file
		}
		if ps[i].Connector == "" {
			ps[i].Connector = connector
		}
	}
	return ps
}

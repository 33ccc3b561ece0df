package api

import (
	"net/http"
	"sort"
	"strings"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/connectors/conf"
	"github.com/sluice-cdc/sluice/daemon/config"
)

// pluginInfo is Kafka Connect's PluginInfo body.
type pluginInfo struct {
	Class   string `json:"class"`
	Type    string `json:"type"`
	Version string `json:"version"`
}

// className is how a class is named to Kafka Connect tools: its first
// Java-style alias, or its short name.
func className(c *connectors.Class) string {
	for _, a := range c.Aliases {
		if strings.Contains(a, ".") {
			return a
		}
	}
	return c.Name
}

// GET /connector-plugins
func (a *API) listPlugins(w http.ResponseWriter, r *http.Request) {
	out := []pluginInfo{}
	for _, c := range connectors.Classes() {
		out = append(out, pluginInfo{Class: className(c), Type: string(c.Kind), Version: a.opts.Version})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Class < out[j].Class })
	writeJSON(w, http.StatusOK, out)
}

// keyDefinition is Kafka Connect's ConfigKeyInfo.
type keyDefinition struct {
	Name          string   `json:"name"`
	Type          string   `json:"type"`
	Required      bool     `json:"required"`
	DefaultValue  *string  `json:"default_value"`
	Importance    string   `json:"importance"`
	Documentation string   `json:"documentation"`
	Group         string   `json:"group"`
	OrderInGroup  int      `json:"order_in_group"`
	Width         string   `json:"width"`
	DisplayName   string   `json:"display_name"`
	Dependents    []string `json:"dependents"`
}

// keyValue is Kafka Connect's ConfigValueInfo.
type keyValue struct {
	Name              string   `json:"name"`
	Value             *string  `json:"value"`
	RecommendedValues []string `json:"recommended_values"`
	Errors            []string `json:"errors"`
	Visible           bool     `json:"visible"`
}

type keyInfo struct {
	Definition keyDefinition `json:"definition"`
	Value      keyValue      `json:"value"`
}

// configInfos is Kafka Connect's ConfigInfos body.
type configInfos struct {
	Name       string    `json:"name"`
	ErrorCount int       `json:"error_count"`
	Groups     []string  `json:"groups"`
	Configs    []keyInfo `json:"configs"`
}

const commonGroup = "Common"

// definitions describes every key of a spec, with the groups in order of
// first appearance.
func definitions(spec *conf.Spec) ([]keyDefinition, []string) {
	var defs []keyDefinition
	groups := []string{}
	order := map[string]int{}
	for _, k := range spec.Keys {
		g := k.Group
		if g == "" {
			g = commonGroup
		}
		if _, seen := order[g]; !seen {
			groups = append(groups, g)
		}
		order[g]++
		d := keyDefinition{Name: k.Name, Type: string(k.Type), Required: k.Required, Importance: "MEDIUM", Documentation: k.Doc,
			Group: g, OrderInGroup: order[g], Width: "NONE", DisplayName: k.Name, Dependents: []string{}}
		if k.Required {
			d.Importance = "HIGH"
		} else {
			def := k.Default
			d.DefaultValue = &def
		}
		defs = append(defs, d)
	}
	return defs, groups
}

// pluginClass finds the class a {type} path parameter names, answering 404
// when there is none.
func pluginClass(w http.ResponseWriter, r *http.Request) (*connectors.Class, bool) {
	c, ok := connectors.Lookup(r.PathValue("type"))
	if !ok {
		writeError(w, http.StatusNotFound, "Unknown plugin "+r.PathValue("type")+": no connector class of that name or alias")
		return nil, false
	}
	return c, true
}

// GET /connector-plugins/{type}/config
func (a *API) pluginConfig(w http.ResponseWriter, r *http.Request) {
	c, ok := pluginClass(w, r)
	if !ok {
		return
	}
	defs, _ := definitions(c.Spec)
	writeJSON(w, http.StatusOK, defs)
}

// PUT /connector-plugins/{type}/config/validate: checks a configuration as
// creating a connector would, without creating one, and answers one entry
// per key with its errors (200 even when there are errors).
func (a *API) validate(w http.ResponseWriter, r *http.Request) {
	class, ok := pluginClass(w, r)
	if !ok {
		return
	}
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	cfg, ps := config.DecodeValues(body)
	if len(ps) > 0 {
		writeProblems(w, ps)
		return
	}
	delete(cfg, "name")
	if given, ok := cfg["connector.class"]; !ok {
		cfg["connector.class"] = r.PathValue("type")
	} else if other, _ := connectors.Lookup(given); other != class {
		writeError(w, http.StatusBadRequest, "Included connector type "+given+" does not match request type "+r.PathValue("type"))
		return
	}
	_, ps = config.Check(config.Connector{Name: class.Name, Config: cfg}, a.opts.Resolver)
	writeJSON(w, http.StatusOK, configInfosOf(class, cfg, ps))
}

func configInfosOf(class *connectors.Class, cfg map[string]string, ps config.Problems) configInfos {
	defs, groups := definitions(class.Spec)
	errs := map[string][]string{}
	for _, p := range ps {
		key := p.Key
		if key == "" {
			key = "connector.class"
		}
		errs[key] = append(errs[key], p.Message)
	}
	shown := config.Mask(class, cfg)
	out := configInfos{Name: className(class), ErrorCount: len(ps), Groups: groups, Configs: []keyInfo{}}
	declared := map[string]bool{}
	for _, d := range defs {
		declared[d.Name] = true
		v := keyValue{Name: d.Name, RecommendedValues: []string{}, Errors: errs[d.Name], Visible: true}
		if s, ok := shown[d.Name]; ok {
			v.Value = &s
		} else {
			v.Value = d.DefaultValue
		}
		if k, ok := class.Spec.Lookup(d.Name); ok && len(k.Allowed) > 0 {
			v.RecommendedValues = k.Allowed
		}
		if v.Errors == nil {
			v.Errors = []string{}
		}
		out.Configs = append(out.Configs, keyInfo{Definition: d, Value: v})
	}
	// Keys the spec does not declare (prefixed families, unknown keys)
	// get an entry of their own, carrying their errors.
	var extra []string
	for k := range shown {
		if !declared[k] {
			extra = append(extra, k)
		}
	}
	for k := range errs {
		if _, given := shown[k]; !given && !declared[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	for _, k := range extra {
		var value *string
		if s, ok := shown[k]; ok {
			value = &s
		}
		e := errs[k]
		if e == nil {
			e = []string{}
		}
		out.Configs = append(out.Configs, keyInfo{
			Definition: keyDefinition{Name: k, Type: string(conf.String), Importance: "LOW", Group: commonGroup, Width: "NONE", DisplayName: k, Dependents: []string{}},
			Value:      keyValue{Name: k, Value: value, RecommendedValues: []string{}, Errors: e, Visible: true},
		})
	}
	return out
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// refreshInterval returns the index's refresh interval and whether it is
// Elasticsearch's default (not set on the index).
func (e *esClient) refreshInterval(ctx context.Context, index string) (string, bool, error) {
	status, body, err := e.do(ctx, "GET", "/"+index+"/_settings/index.refresh_interval?include_defaults=true&flat_settings=true")
	if err != nil {
		return "", false, err
	}
	if status != http.StatusOK {
		return "", false, fmt.Errorf("settings of index %s: %d %s", index, status, body)
	}
	var s map[string]struct {
		Settings map[string]string `json:"settings"`
		Defaults map[string]string `json:"defaults"`
	}
	if err := json.Unmarshal(body, &s); err != nil {
		return "", false, fmt.Errorf("decode settings of index %s: %w", index, err)
	}
	for _, v := range s {
		if r, ok := v.Settings["index.refresh_interval"]; ok {
			return r, false, nil
		}
		if r, ok := v.Defaults["index.refresh_interval"]; ok {
			return r, true, nil
		}
	}
	return "", false, fmt.Errorf("settings of index %s hold no refresh interval: %s", index, body)
}

// refreshStats returns how many refreshes of index's primaries
// Elasticsearch made so far (external, the ones that make changes
// searchable) and the milliseconds they took.
func (e *esClient) refreshStats(ctx context.Context, index string) (int64, int64, error) {
	status, body, err := e.do(ctx, "GET", "/"+index+"/_stats/refresh")
	if err != nil {
		return 0, 0, err
	}
	if status != http.StatusOK {
		return 0, 0, fmt.Errorf("refresh stats of index %s: %d %s", index, status, body)
	}
	var s struct {
		All struct {
			Primaries struct {
				Refresh struct {
					External   int64 `json:"external_total"`
					ExternalMS int64 `json:"external_total_time_in_millis"`
				} `json:"refresh"`
			} `json:"primaries"`
		} `json:"_all"`
	}
	if err := json.Unmarshal(body, &s); err != nil {
		return 0, 0, fmt.Errorf("decode refresh stats of index %s: %w", index, err)
	}
	return s.All.Primaries.Refresh.External, s.All.Primaries.Refresh.ExternalMS, nil
}

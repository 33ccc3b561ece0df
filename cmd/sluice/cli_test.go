package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// sluice runs a command line in-process and returns its exit code and what
// it wrote to stdout and to stderr.
func sluice(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errs bytes.Buffer
	code := run(t.Context(), args, &out, &errs)
	return code, out.String(), errs.String()
}

// TestHelpGoesToStdout checks that asking for help prints it on stdout, so
// that `sluice run --help | less` shows it, and exits 0.
func TestHelpGoesToStdout(t *testing.T) {
	for _, args := range [][]string{
		{"--help"}, {"help"}, {"-h"},
		{"run", "--help"}, {"run", "-h"}, {"validate", "--help"}, {"health", "--help"},
	} {
		code, out, errs := sluice(t, args...)
		want := "sluice — change data capture"
		if len(args) == 2 {
			want = "Usage: sluice " + args[0] + " ["
		}
		if code != exitOK || !strings.HasPrefix(out, want) || errs != "" {
			t.Errorf("sluice %s: exit %d, stdout %.40q, stderr %q; want exit 0, stdout starting %q, nothing on stderr", strings.Join(args, " "), code, out, errs, want)
		}
	}
	if _, out, _ := sluice(t, "run", "--help"); !strings.Contains(out, "-connectors-dir string") || !strings.Contains(out, "rest.listen ") {
		t.Errorf("sluice run --help lacks its flags or settings:\n%s", out)
	}
}

// TestMistakesSayWhatToDo checks the messages of the mistakes a new user
// makes on the command line, with the stream each goes to.
func TestMistakesSayWhatToDo(t *testing.T) {
	dir := t.TempDir()
	connector := filepath.Join(dir, "orders.json")
	writeJSON(t, connector, `{"name": "orders", "config": {"connector.class": "postgres", "databse.hostname": "db", "database.user": "u", "database.dbname": "d", "topic.prefix": "p"}}`)
	cases := []struct {
		name           string
		args           []string
		code           int
		stdout, stderr string
	}{
		{"unknown flag", []string{"run", "--nope"}, exitUsage, "",
			"sluice: run: flag provided but not defined: -nope (see 'sluice run --help')\n"},
		{"extra argument", []string{"validate", "sluice.json"}, exitUsage, "",
			"sluice: validate: unexpected argument \"sluice.json\" (see 'sluice validate --help')\n"},
		{"connector file as daemon config", []string{"run", "--config", connector}, exitUsage, "",
			connector + `: looks like a connector file ({"name", "config"}), not a daemon config: pass its directory with --connectors-dir (and a daemon config, if you have one, with --config)` + "\nsluice: 1 problem(s) in the configuration\n"},
		{"mistyped key", []string{"validate", "--connectors-dir", dir}, exitUsage,
			connector + `: connector "orders": database.hostname: missing required configuration` + "\n" +
				connector + `: connector "orders": databse.hostname: unknown configuration key; did you mean database.hostname?` + "\n",
			"sluice: 2 problem(s) in the configuration\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := sluice(t, tc.args...)
			if code != tc.code || out != tc.stdout || errs != tc.stderr {
				t.Errorf("exit %d (want %d)\nstdout %q\nwant   %q\nstderr %q\nwant   %q", code, tc.code, out, tc.stdout, errs, tc.stderr)
			}
		})
	}
}

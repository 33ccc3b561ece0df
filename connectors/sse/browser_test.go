package sse_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/testenv"
)

// chromium is the launcher of Debian's chromium package.
const chromium = "/usr/bin/chromium"

func TestBrowserPageShowsRowInsertedInPostgres(t *testing.T) {
	if _, err := os.Stat(chromium); err != nil {
		msg := chromium + " is missing, so the example page cannot be driven in a browser: install Debian's chromium package (apt-get install -y chromium)"
		if os.Getenv(testenv.EnvRequired) != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	p := newPipeline(t)
	p.start("orders", map[string]string{"format": "flat"})
	html, err := os.ReadFile("../../examples/sse/index.html")
	if err != nil {
		t.Fatal(err)
	}
	// The page and the stream have one origin.
	remove, err := p.router.Handle("/index.html", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(html)
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer remove()

	b := startBrowser(t, p.srv.URL+"/index.html?stream="+url.QueryEscape("/streams/orders"))
	// The page subscribes at the live end: the row is inserted once it has.
	subscribed := `sluice_sse_subscribers{connector="orders"} 1` + "\n"
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(p.prometheus(), subscribed); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the page did not subscribe within 20s; it shows %s", b.eval(`document.body.outerHTML`))
		}
	}
	inserted := time.Now()
	p.exec("INSERT INTO orders VALUES (7, 42, 12.50, 'from <Postgres>')")
	const want = `<div id="status">live</div>` +
		`<table id="rows"><thead><tr><th>id</th><th>customer_id</th><th>amount</th><th>note</th></tr></thead>` +
		`<tbody><tr data-key="{&quot;id&quot;:7}"><td>7</td><td>42</td><td>12.50</td><td>from &lt;Postgres&gt;</td></tr></tbody></table>`
	const shown = `document.getElementById("status").outerHTML + document.getElementById("rows").outerHTML`
	var got string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if got = b.eval(shown); got == want {
			t.Logf("the page showed the row %v after the insert", time.Since(inserted))
			return
		}
	}
	t.Errorf("the page shows\n%s\nwant\n%s", got, want)
}

// browser is a headless Chromium driven over the DevTools protocol on a
// pipe (--remote-debugging-pipe: the browser reads NUL-terminated JSON
// messages from its fd 3 and writes them to its fd 4).
type browser struct {
	t       *testing.T
	in      *os.File // the browser's fd 3
	out     *bufio.Reader
	session string
	id      int
}

// startBrowser opens page in a new headless Chromium, which is stopped
// when the test ends.
func startBrowser(t *testing.T, page string) *browser {
	t.Helper()
	toBrowser, in, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	out, fromBrowser, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--user-data-dir="+t.TempDir(), "--remote-debugging-pipe", "about:blank")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	cmd.ExtraFiles = []*os.File{toBrowser, fromBrowser}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", chromium, err)
	}
	toBrowser.Close()
	fromBrowser.Close()
	t.Cleanup(func() {
		in.Close() // the browser exits when its pipe closes
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		out.Close()
		if t.Failed() {
			t.Logf("chromium's output:\n%s", stderr.String())
		}
	})
	b := &browser{t: t, in: in, out: bufio.NewReader(out)}
	var target struct {
		TargetID string `json:"targetId"`
	}
	b.call("Target.createTarget", map[string]any{"url": page}, &target)
	var session struct {
		SessionID string `json:"sessionId"`
	}
	b.call("Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &session)
	b.session = session.SessionID
	return b
}

// call sends a command (to the page once attached) and decodes its result
// into result, skipping the events that arrive meanwhile.
func (b *browser) call(method string, params map[string]any, result any) {
	b.t.Helper()
	b.id++
	msg := map[string]any{"id": b.id, "method": method, "params": params}
	if b.session != "" {
		msg["sessionId"] = b.session
	}
	raw, _ := json.Marshal(msg)
	if _, err := b.in.Write(append(raw, 0)); err != nil {
		b.t.Fatalf("%s: send to chromium: %v", method, err)
	}
	for {
		reply, err := b.out.ReadBytes(0)
		if err != nil {
			b.t.Fatalf("%s: read from chromium: %v", method, err)
		}
		var r struct {
			ID     int             `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(reply[:len(reply)-1], &r); err != nil {
			b.t.Fatalf("%s: reply %q: %v", method, reply, err)
		}
		if r.ID != b.id {
			continue
		}
		if r.Error != nil {
			b.t.Fatalf("%s: %s", method, r.Error.Message)
		}
		if err := json.Unmarshal(r.Result, result); err != nil {
			b.t.Fatalf("%s: result %s: %v", method, r.Result, err)
		}
		return
	}
}

// eval returns the value of a JavaScript expression of string value in the
// page, or the exception it threw.
func (b *browser) eval(expr string) string {
	b.t.Helper()
	var r struct {
		Result struct {
			Value any `json:"value"`
		} `json:"result"`
		Exception *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	b.call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}, &r)
	if r.Exception != nil {
		return "exception: " + r.Exception.Text
	}
	return fmt.Sprint(r.Result.Value)
}

// prometheus returns the metrics of the sinks in the text format.
func (e *env) prometheus() string {
	var b strings.Builder
	e.metrics.WritePrometheus(&b)
	return b.String()
}

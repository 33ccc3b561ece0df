package main

import "testing"

func TestParseDSN(t *testing.T) {
	got, err := parseDSN("sluice:se:cret@tcp(127.0.0.1:29685)/sluice")
	if err != nil {
		t.Fatal(err)
	}
	if want := (server{host: "127.0.0.1", port: 29685, user: "sluice", password: "se:cret"}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if _, err := parseDSN("sluice@tcp(127.0.0.1)/x"); err == nil {
		t.Error("a DSN without a port was accepted")
	}
}

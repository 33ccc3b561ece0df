package event

import "testing"

func TestBinlogCommitOrdersTransactionsAcrossFiles(t *testing.T) {
	snapshot, err := BinlogCommit("mysql-bin.000007", 4000)
	if err != nil {
		t.Fatal(err)
	}
	if snapshot != (7<<32|4000)<<3 {
		t.Fatalf("BinlogCommit = %d, want %d", snapshot, uint64(7<<32|4000)<<3)
	}
	later, _ := BinlogCommit("mysql-bin.000007", 4100)
	nextFile, _ := BinlogCommit("mysql-bin.000008", 300)
	if !(snapshot < later && later < nextFile) {
		t.Fatalf("commits %d, %d, %d are not increasing", snapshot, later, nextFile)
	}
	v1, _ := Position{Commit: later, Index: 1}.Version()
	v0, _ := Position{Commit: later}.Version()
	vs, _ := Position{Commit: snapshot}.Version()
	if !(vs < v0 && v0 < v1) {
		t.Fatalf("versions %d, %d, %d are not increasing", vs, v0, v1)
	}
	if _, err := BinlogCommit("binlog", 4); err == nil || err.Error() != `binlog file name "binlog" does not end with a sequence number` {
		t.Fatalf("err = %v", err)
	}
}

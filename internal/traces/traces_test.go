package traces_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/pagespace/pagespace/internal/traces"
)

func TestLoad(t *testing.T) {
	want := map[string]struct {
		concurrent bool
		agents     int
		txns       int
		endLen     int
	}{
		"friendsforever":  {true, 2, 26078, 21362},
		"clownschool":     {true, 3, 23136, 21148},
		"automerge-paper": {false, 1, 259778, 104852},
	}
	for _, name := range traces.Names {
		tr, err := traces.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		w := want[name]
		if tr.Name != name || tr.Concurrent != w.concurrent || tr.NumAgents != w.agents || len(tr.Txns) != w.txns ||
			utf8.RuneCountInString(tr.EndContent) != w.endLen {
			t.Errorf("%s: name %q concurrent %v agents %d txns %d end %d", name, tr.Name, tr.Concurrent, tr.NumAgents,
				len(tr.Txns), utf8.RuneCountInString(tr.EndContent))
		}
	}
}

func TestTxnOp(t *testing.T) {
	tx := traces.Txn{Patches: []traces.Patch{{Pos: 1, Del: 1, Ins: "👋"}, {Pos: 0, Del: 0, Ins: "é"}}}
	op, err := tx.Op(3)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := op.Apply("abc"); err != nil || got != "éa👋c" {
		t.Fatalf("%v: %q %v", op, got, err)
	}
	if op, err := (traces.Txn{}).Op(4); err != nil || !op.IsNoop() || op.BaseLen() != 4 {
		t.Fatalf("empty txn: %v %v", op, err)
	}
	if _, err := (traces.Txn{Patches: []traces.Patch{{Pos: 2, Del: 2}}}).Op(3); err == nil {
		t.Fatal("patch past the end accepted")
	}
}

func read(t *testing.T, s string) *traces.Trace {
	t.Helper()
	tr, err := traces.Read(strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestReplaySmall(t *testing.T) {
	// Writer 0 types "ab"; writer 1, having seen "a" only, types "X" at the start; writer 0,
	// having seen nothing of writer 1, types "c" at the end.
	tr := read(t, `{"kind":"concurrent","endContent":"Xabc","numAgents":2,"txns":[
		{"parents":[],"agent":0,"patches":[[0,0,"a"]]},
		{"parents":[0],"agent":0,"patches":[[1,0,"b"]]},
		{"parents":[0],"agent":1,"patches":[[0,0,"X"]]},
		{"parents":[1],"agent":0,"patches":[[2,0,"c"]]}]}`)
	r, err := traces.NewReplay(tr)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for !r.Done() {
		st, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, st.Local.String()+" "+st.Op.String())
	}
	want := []string{`["a"] ["a"]`, `[1,"b"] [1,"b"]`, `["X",1] ["X",2]`, `[2,"c"] [3,"c"]`}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("steps %v, want %v", got, want)
	}
	rest := r.Finish()
	if len(rest[0]) != 1 || rest[0][0].String() != `["X",3]` || len(rest[1]) != 2 {
		t.Fatalf("finish: %v", rest)
	}
}

func TestReplayRejectsOtherShapes(t *testing.T) {
	cases := map[string]string{
		"not a chain": `{"kind":"concurrent","numAgents":1,"txns":[
			{"parents":[],"agent":0,"patches":[]},{"parents":[],"agent":0,"patches":[]}]}`,
		// Writer 0 has seen writer 2's txn 1 but not writer 1's txn 0 before it.
		"not a prefix": `{"kind":"concurrent","numAgents":3,"txns":[
			{"parents":[],"agent":1,"patches":[]},
			{"parents":[],"agent":2,"patches":[]},
			{"parents":[1],"agent":0,"patches":[]}]}`,
	}
	for name, s := range cases {
		_, err := traces.NewReplay(read(t, s))
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
		t.Logf("%s: %v", name, err)
	}
	if _, err := traces.NewReplay(read(t, `{"startContent":"","endContent":"","txns":[]}`)); err == nil {
		t.Error("sequential trace accepted")
	}
}

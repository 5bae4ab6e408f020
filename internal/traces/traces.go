package traces

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/pagespace/pagespace/pages/ot"
)

// Names are the traces in testdata/traces.
var Names = []string{"friendsforever", "clownschool", "automerge-paper"}

// Trace is one editing trace.
type Trace struct {
	Name         string
	Concurrent   bool
	StartContent string
	EndContent   string
	NumAgents    int
	Txns         []Txn
}

// Txn is one transaction: patches one writer made at once, applied one after another.
type Txn struct {
	// Parents are indexes of earlier transactions whose merged result this one was made on
	// (concurrent traces only); empty means the empty document.
	Parents []int `json:"parents"`
	Agent   int   `json:"agent"`
	Time    string
	Patches []Patch `json:"patches"`
}

// Patch is one edit: at Pos (code points), delete Del code points and insert Ins.
type Patch struct {
	Pos int
	Del int
	Ins string
}

// UnmarshalJSON reads the trace form [pos, delCount, insText].
func (p *Patch) UnmarshalJSON(data []byte) error {
	var v [3]any
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	pos, ok1 := v[0].(float64)
	del, ok2 := v[1].(float64)
	ins, ok3 := v[2].(string)
	if !ok1 || !ok2 || !ok3 || pos != float64(int(pos)) || del != float64(int(del)) {
		return fmt.Errorf("traces: patch %s: want [pos, del, ins]", data)
	}
	*p = Patch{Pos: int(pos), Del: int(del), Ins: ins}
	return nil
}

// Dir returns the directory of the traces: testdata/traces at the root of the module that holds
// the working directory (go test runs in the package's directory).
func Dir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "testdata", "traces"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("traces: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Load reads the trace of that name (e.g. "friendsforever") from Dir().
func Load(name string) (*Trace, error) {
	dir, err := Dir()
	if err != nil {
		return nil, err
	}
	return LoadFile(filepath.Join(dir, name+".json.gz"))
}

// LoadFile reads a trace from a gzipped JSON file.
func LoadFile(path string) (*Trace, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("traces: %s: %w", path, err)
	}
	t, err := Read(zr)
	if err != nil {
		return nil, fmt.Errorf("traces: %s: %w", path, err)
	}
	t.Name = strings.TrimSuffix(filepath.Base(path), ".json.gz")
	return t, nil
}

// Read decodes a trace from its (uncompressed) JSON.
func Read(r io.Reader) (*Trace, error) {
	var raw struct {
		Kind         string `json:"kind"`
		StartContent string `json:"startContent"`
		EndContent   string `json:"endContent"`
		NumAgents    int    `json:"numAgents"`
		Txns         []Txn  `json:"txns"`
	}
	if err := json.NewDecoder(r).Decode(&raw); err != nil {
		return nil, err
	}
	t := &Trace{
		Concurrent:   raw.Kind == "concurrent",
		StartContent: raw.StartContent,
		EndContent:   raw.EndContent,
		NumAgents:    max(raw.NumAgents, 1),
		Txns:         raw.Txns,
	}
	if raw.Kind != "" && !t.Concurrent {
		return nil, fmt.Errorf("traces: unknown kind %q", raw.Kind)
	}
	for i, tx := range t.Txns {
		if tx.Agent < 0 || tx.Agent >= t.NumAgents {
			return nil, fmt.Errorf("traces: txn %d: agent %d of %d", i, tx.Agent, t.NumAgents)
		}
		for _, p := range tx.Parents {
			if p < 0 || p >= i {
				return nil, fmt.Errorf("traces: txn %d: parent %d", i, p)
			}
		}
	}
	return t, nil
}

// Op returns the transaction as one operation on a document of docLen code points (the document
// its writer saw). It fails when a patch falls outside the document.
func (t Txn) Op(docLen int) (ot.Op, error) {
	var op ot.Op
	for i, p := range t.Patches {
		if p.Pos < 0 || p.Del < 0 || p.Pos+p.Del > docLen {
			return ot.Op{}, fmt.Errorf("traces: patch %d (%d, %d) outside a document of %d", i, p.Pos, p.Del, docLen)
		}
		var step ot.Op
		step = step.Retain(p.Pos).Delete(p.Del).Insert(p.Ins).Retain(docLen - p.Pos - p.Del)
		if i == 0 {
			op = step
		} else {
			var err error
			if op, err = ot.Compose(op, step); err != nil {
				return ot.Op{}, err
			}
		}
		docLen = step.TargetLen()
	}
	if len(t.Patches) == 0 {
		op = op.Retain(docLen)
	}
	return op, nil
}

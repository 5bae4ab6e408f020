package modules_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/pagespace/pagespace/modules"
)

type Embedded struct {
	Note string `json:"note"`
}

type inner struct {
	Name string `json:"name"`
}

// body has a field of every kind the request types use.
type body struct {
	Embedded
	Title    string                          `json:"title"`
	Parent   *string                         `json:"parentId"`
	Count    int                             `json:"count"`
	Opt      modules.Optional[string]        `json:"opt"`
	OptInner modules.Optional[inner]         `json:"optInner"`
	Inner    *inner                          `json:"inner"`
	List     []inner                         `json:"list"`
	Map      map[string]inner                `json:"map"`
	At       *modules.Time                   `json:"at"`
	Raw      json.RawMessage                 `json:"raw"`
	Any      any                             `json:"any"`
	Skipped  string                          `json:"-"`
	Untagged string                          // the Go name is the key
	Nested   map[string]map[string][]float64 `json:"nested"`
}

func TestDecodeJSON(t *testing.T) {
	cases := []struct {
		name, body string
		ok         bool
	}{
		{"every field", `{"note":"n","title":"t","parentId":"p","count":1,"opt":null,"optInner":{"name":"x"},
			"inner":{"name":"x"},"list":[{"name":"x"}],"map":{"K":{"name":"x"}},"at":"2025-01-31T16:00:00Z",
			"raw":{"Any":["keys"]},"any":{"Any":1},"Untagged":"u","nested":{"a":{"b":[1]}}}`, true},
		{"empty object", `{}`, true},
		{"escapes that are fine", `{"title":"\u00e9\ud83d\ude00\t\"\\\/\ufffd"}`, true},
		{"raw U+FFFD is text", "{\"title\":\"\xef\xbf\xbd\"}", true},

		{"key in another case", `{"Title":"t"}`, false},
		{"key in upper case", `{"TITLE":"t"}`, false},
		{"embedded key in another case", `{"Note":"n"}`, false},
		{"nested key in another case", `{"inner":{"Name":"x"}}`, false},
		{"key in another case inside Optional", `{"optInner":{"Name":"x"}}`, false},
		{"unknown key inside Optional", `{"optInner":{"name":"x","other":1}}`, false},
		{"key in another case in a list", `{"list":[{"name":"x"},{"NAME":"x"}]}`, false},
		{"key in another case in a map value", `{"map":{"k":{"Name":"x"}}}`, false},
		{"Go name of a tagged field", `{"Count":1}`, false},
		{"skipped field", `{"Skipped":"x"}`, false},
		{"untagged field in another case", `{"untagged":"u"}`, false},
		{"unknown field", `{"other":1}`, false},
		{"repeated key", `{"title":"a","title":"b"}`, false},
		{"repeated key in a map", `{"map":{"k":{},"k":{}}}`, false},
		{"repeated key in raw JSON", `{"raw":{"a":1,"a":2}}`, false},

		{"NUL escape", `{"title":"a\u0000b"}`, false},
		{"NUL escape in a list", `{"list":[{"name":"\u0000"}]}`, false},
		{"NUL escape in raw JSON", `{"raw":["\u0000"]}`, false},
		{"NUL escape in a key", `{"ti\u0000tle":"t"}`, false},
		{"NUL escape in a map key", `{"map":{"\u0000":{}}}`, false},
		{"invalid UTF-8", "{\"title\":\"a\xffb\"}", false},
		{"truncated UTF-8", "{\"title\":\"a\xe2\x82\"}", false},
		{"overlong UTF-8 encoding", "{\"title\":\"\xc0\xaf\"}", false},
		{"UTF-8 encoded surrogate", "{\"title\":\"\xed\xa0\x80\"}", false},
		{"invalid UTF-8 in a key", "{\"ti\xfftle\":\"t\"}", false},
		{"lone high surrogate", `{"title":"a\ud800b"}`, false},
		{"lone high surrogate at the end", `{"title":"a\ud800"}`, false},
		{"lone low surrogate", `{"title":"\udc00"}`, false},
		{"high surrogate then non-surrogate escape", `{"title":"\ud800\u0041"}`, false},
		{"two high surrogates", `{"title":"\ud800\ud800"}`, false},
		{"surrogate in an Optional", `{"opt":"\udfff"}`, false},

		{"wrong type", `{"count":"1"}`, false},
		{"two values", `{} {}`, false},
		{"empty", ``, false},
		{"malformed", `{"title":}`, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var v body
			err := modules.DecodeJSON(strings.NewReader(c.body), &v)
			if c.ok && err != nil {
				t.Fatalf("error %v", err)
			}
			if !c.ok {
				e := modules.As(err)
				if e == nil || e.Kind != modules.KindInvalid {
					t.Fatalf("error %v, want invalid_request", err)
				}
			}
		})
	}
}

// TestDecodeJSONNamesTheField checks that a bad string is reported on its field, as the
// validator reports its problems.
func TestDecodeJSONNamesTheField(t *testing.T) {
	for _, bad := range []string{`a\u0000`, `a\ud800`, "a\xff"} {
		var v body
		err := modules.DecodeJSON(strings.NewReader(`{"title":"ok","inner":{"name":"`+bad+`"}}`), &v)
		e := modules.As(err)
		if e == nil || !strings.Contains(e.Message, `"inner.name"`) {
			t.Fatalf("%q: error %v", bad, err)
		}
		fields, _ := e.Details["fields"].(map[string]string)
		if fields["inner.name"] == "" {
			t.Fatalf("%q: details %v", bad, e.Details)
		}
	}
}

type cursor struct {
	At     int64    `json:"t"`
	ID     string   `json:"i"`
	Parent string   `json:"p"`
	Pos    *float64 `json:"o"`
}

func TestDecodeCursor(t *testing.T) {
	pos := 1.5
	good := modules.EncodeCursor(cursor{At: 5, ID: "0190-abc", Pos: &pos})
	var c cursor
	if err := modules.DecodeCursor(good, &c); err != nil || c.ID != "0190-abc" || c.At != 5 || *c.Pos != 1.5 {
		t.Fatalf("good cursor: %v %+v", err, c)
	}
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for name, s := range map[string]string{
		"not base64":        "***",
		"padded":            good + "=",
		"empty JSON":        "",
		"empty object":      enc(`{}`),
		"null":              enc(`null`),
		"array":             enc(`[5,"x","",1]`),
		"missing field":     enc(`{"t":5,"i":"x","p":""}`),
		"null field":        enc(`{"t":null,"i":"x","p":"","o":1}`),
		"null string":       enc(`{"t":5,"i":null,"p":"","o":1}`),
		"extra field":       enc(`{"t":5,"i":"x","p":"","o":1,"x":1}`),
		"key case":          enc(`{"T":5,"i":"x","p":"","o":1}`),
		"repeated":          enc(`{"t":5,"i":"x","i":"y","p":"","o":1}`),
		"wrong type":        enc(`{"t":"5","i":"x","p":"","o":1}`),
		"fraction for int":  enc(`{"t":5.5,"i":"x","p":"","o":1}`),
		"control character": enc(`{"t":5,"i":"a\u0001","p":"","o":1}`),
		"NUL":               enc(`{"t":5,"i":"a\u0000","p":"","o":1}`),
		"overlong id":       enc(`{"t":5,"i":"` + strings.Repeat("x", 129) + `","p":"","o":1}`),
		"invalid UTF-8":     enc("{\"t\":5,\"i\":\"\xff\",\"p\":\"\",\"o\":1}"),
		"trailing":          enc(`{"t":5,"i":"x","p":"","o":1}1`),
	} {
		var c cursor
		if e := modules.As(modules.DecodeCursor(s, &c)); e == nil || e.Kind != modules.KindInvalid {
			t.Errorf("%s: %v, want invalid_request", name, e)
		}
	}
}

// FuzzDecodeJSON checks that the decoder never panics, fails only with invalid_request, and
// never lets through what it promises to refuse. Its seed corpus is in testdata/fuzz.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"title":"t","inner":{"name":"x"},"list":[{}],"raw":[1,{"a":"b"}]}`,
		`{"Title":"t"}`, `{"title":"a\u0000"}`, `{"title":"\ud83d\ude00\ud800"}`, "{\"title\":\"\xff\"}"} {
		f.Add([]byte(s))
	}
	allowed := map[string]bool{"note": true, "title": true, "parentId": true, "count": true, "opt": true,
		"optInner": true, "inner": true, "list": true, "map": true, "at": true, "raw": true, "any": true,
		"Untagged": true, "nested": true}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v body
		err := modules.DecodeJSON(bytes.NewReader(data), &v)
		if err != nil {
			if e := modules.As(err); e == nil || e.Kind != modules.KindInvalid {
				t.Fatalf("error %v is not invalid_request", err)
			}
			return
		}
		if !utf8.Valid(data) {
			t.Fatal("accepted invalid UTF-8")
		}
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(data, &keys); err != nil {
			t.Fatalf("accepted what is not an object: %v", err)
		}
		for k := range keys {
			if !allowed[k] {
				t.Fatalf("accepted key %q", k)
			}
		}
		var plain body
		if err := json.Unmarshal(data, &plain); err != nil || !reflect.DeepEqual(plain, v) {
			t.Fatalf("decoded %+v, encoding/json %+v (%v)", v, plain, err)
		}
		out, _ := json.Marshal(v)
		if bytes.Contains(out, []byte(`\u0000`)) {
			t.Fatal("accepted NUL")
		}
	})
}

func TestDollarPlaceholders(t *testing.T) {
	for in, want := range map[string]string{
		"SELECT 1":                    "SELECT 1",
		"a = ? AND b = ?":             "a = $1 AND b = $2",
		"(?::json), ?; COMMIT; BEGIN": "($1::json), $2; COMMIT; BEGIN",
	} {
		if got := modules.DollarPlaceholders(in); got != want {
			t.Errorf("DollarPlaceholders(%q) = %q, want %q", in, got, want)
		}
	}
}

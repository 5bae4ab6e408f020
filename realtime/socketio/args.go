package socketio

import (
	"encoding/json"
	"fmt"
)

// Args are the arguments of a received event or acknowledgement, kept as raw JSON until asked
// for. A top-level binary argument is a placeholder resolved against the packet's attachments.
// Args are immutable and safe to share; the byte slices they return must not be modified.
type Args struct {
	raw         []json.RawMessage
	attachments [][]byte
}

// NewArgs builds Args from raw JSON values and attachments, mainly for tests.
func NewArgs(raw []json.RawMessage, attachments [][]byte) Args {
	return Args{raw: raw, attachments: attachments}
}

// Len is the number of arguments.
func (a Args) Len() int { return len(a.raw) }

// Raw is the JSON of argument i (a placeholder object for a binary argument); nil if out of range.
func (a Args) Raw(i int) json.RawMessage {
	if i < 0 || i >= len(a.raw) {
		return nil
	}
	return a.raw[i]
}

// Bytes returns the attachment when argument i is binary.
func (a Args) Bytes(i int) ([]byte, bool) {
	if i < 0 || i >= len(a.raw) || len(a.attachments) == 0 {
		return nil, false
	}
	n, ok := placeholderAt(a.raw[i], len(a.attachments))
	if !ok {
		return nil, false
	}
	return a.attachments[n], true
}

// Attachments are the binary attachments of the packet, in order.
func (a Args) Attachments() [][]byte { return a.attachments }

// Decode unmarshals argument i into v. A binary argument decodes into a *[]byte (copied).
func (a Args) Decode(i int, v any) error {
	if i < 0 || i >= len(a.raw) {
		return fmt.Errorf("socketio: argument %d of %d missing", i, len(a.raw))
	}
	if b, ok := a.Bytes(i); ok {
		if p, ok := v.(*[]byte); ok {
			*p = append([]byte(nil), b...)
			return nil
		}
		return fmt.Errorf("socketio: argument %d is binary; decode it into a *[]byte", i)
	}
	if err := json.Unmarshal(a.raw[i], v); err != nil {
		return fmt.Errorf("socketio: argument %d: %w", i, err)
	}
	return nil
}

// Values returns the arguments as values that Emit and AckFunc send back unchanged: a []byte for
// a top-level binary argument, a json.RawMessage otherwise. Placeholders nested inside objects are
// not resolved.
func (a Args) Values() []any {
	out := make([]any, len(a.raw))
	for i := range a.raw {
		if b, ok := a.Bytes(i); ok {
			out[i] = b
		} else {
			out[i] = a.raw[i]
		}
	}
	return out
}

package apicheck

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/pagespace/pagespace/app/apispec"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

const asyncAPIURL = "https://pagespace.invalid/asyncapi.json"

// Socket validates Socket.IO events and acks against the AsyncAPI description.
type Socket struct {
	received map[string]receivedEvent      // events the server sends
	acks     map[string]*jsonschema.Schema // by the name of the event a client sends
	ackError *jsonschema.Schema
	messages map[string]*jsonschema.Schema // every message's payload, by its key
}

type receivedEvent struct {
	schema *jsonschema.Schema
	offset bool // a domain event: its eventId comes as an extra last argument
}

var asyncAPI = sync.OnceValues(func() (*Socket, error) { return compileAsyncAPI(apispec.AsyncAPI()) })

// AsyncAPI returns the validator of the embedded asyncapi.json, compiled on first use.
func AsyncAPI() (*Socket, error) { return asyncAPI() }

func compileAsyncAPI(src []byte) (*Socket, error) {
	var doc struct {
		Operations map[string]struct {
			Action   string `json:"action"`
			Messages []struct {
				Ref string `json:"$ref"`
			} `json:"messages"`
			Reply *struct {
				Messages []struct {
					Ref string `json:"$ref"`
				} `json:"messages"`
			} `json:"reply"`
		} `json:"operations"`
		Components struct {
			Messages map[string]struct {
				Name     string `json:"name"`
				SocketIO struct {
					Offset bool `json:"offset"`
				} `json:"x-socketio"`
			} `json:"messages"`
		} `json:"components"`
	}
	if err := json.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("apicheck: asyncapi.json: %w", err)
	}
	c, err := newCompiler(asyncAPIURL, src)
	if err != nil {
		return nil, err
	}
	s := &Socket{received: map[string]receivedEvent{}, acks: map[string]*jsonschema.Schema{}, messages: map[string]*jsonschema.Schema{}}
	for key := range doc.Components.Messages {
		if s.messages[key], err = c.Compile(asyncAPIURL + "#/components/messages/" + escape(key) + "/payload"); err != nil {
			return nil, fmt.Errorf("apicheck: asyncapi.json: message %s: %w", key, err)
		}
	}
	if s.ackError, err = c.Compile(asyncAPIURL + "#/components/schemas/AckError"); err != nil {
		return nil, fmt.Errorf("apicheck: asyncapi.json: AckError: %w", err)
	}
	// Operations name channel messages (#/channels/socket/messages/<key>), which are the
	// component messages of the same key.
	payload := func(ref string) (string, *jsonschema.Schema, error) {
		key := ref[strings.LastIndex(ref, "/")+1:]
		if s.messages[key] == nil {
			return key, nil, fmt.Errorf("no message %s", key)
		}
		return key, s.messages[key], nil
	}
	for id, op := range doc.Operations {
		if len(op.Messages) != 1 {
			return nil, fmt.Errorf("apicheck: asyncapi.json: operation %s has %d messages, want 1", id, len(op.Messages))
		}
		key, sch, err := payload(op.Messages[0].Ref)
		if err != nil {
			return nil, fmt.Errorf("apicheck: asyncapi.json: %s: %w", id, err)
		}
		m := doc.Components.Messages[key]
		switch op.Action {
		case "receive":
			s.received[m.Name] = receivedEvent{schema: sch, offset: m.SocketIO.Offset}
		case "send":
			if op.Reply == nil || len(op.Reply.Messages) != 1 {
				return nil, fmt.Errorf("apicheck: asyncapi.json: %s has no reply (every client event takes an ack)", id)
			}
			_, ack, err := payload(op.Reply.Messages[0].Ref)
			if err != nil {
				return nil, fmt.Errorf("apicheck: asyncapi.json: %s reply: %w", id, err)
			}
			s.acks[m.Name] = ack
		}
	}
	return s, nil
}

// Received lists the events the description says the server sends, sorted.
func (s *Socket) Received() []string { return slices.Sorted(maps.Keys(s.received)) }

// Accepted lists the events the description says a client may send, sorted.
func (s *Socket) Accepted() []string { return slices.Sorted(maps.Keys(s.acks)) }

// Message validates data against the payload of a described message, by its key in the
// document's messages: an event the server sends by its name, or "<event>_request" and
// "<event>_ack" for an event a client sends and its ack.
func (s *Socket) Message(key string, data []byte) error {
	sch, ok := s.messages[key]
	if !ok {
		return fmt.Errorf("message %s is not in asyncapi.json", key)
	}
	return validate(sch, key, data)
}

// Event validates an event the server sent: a described name, one payload argument matching
// its schema, and for domain events an offset equal to the payload's eventId (for others none).
func (s *Socket) Event(name string, args []json.RawMessage, offset string) error {
	ev, ok := s.received[name]
	if !ok {
		return fmt.Errorf("event %s is not in asyncapi.json", name)
	}
	if len(args) != 1 {
		return fmt.Errorf("event %s has %d arguments besides the offset, asyncapi.json says 1", name, len(args))
	}
	if err := validate(ev.schema, "event "+name, args[0]); err != nil {
		return err
	}
	if !ev.offset {
		if offset != "" {
			return fmt.Errorf("event %s came with offset %q; asyncapi.json says it has none", name, offset)
		}
		return nil
	}
	var p struct {
		EventID string `json:"eventId"`
	}
	_ = json.Unmarshal(args[0], &p)
	if offset != p.EventID {
		return fmt.Errorf("event %s came with offset %q, want its eventId %q", name, offset, p.EventID)
	}
	return nil
}

// Ack validates the ack of an event a client sent: exactly one argument, matching the reply
// of that event in the description.
func (s *Socket) Ack(event string, args []json.RawMessage) error {
	sch, ok := s.acks[event]
	if !ok {
		sch = s.ackError // an event the server does not accept is refused, if acked at all
	}
	if len(args) != 1 {
		return fmt.Errorf("ack of %s has %d arguments, asyncapi.json says 1", event, len(args))
	}
	return validate(sch, "ack of "+event, args[0])
}

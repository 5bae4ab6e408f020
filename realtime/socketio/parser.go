package socketio

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/pagespace/pagespace/realtime/engineio"
)

// PacketType is the type of a Socket.IO packet, the first character of its encoding.
type PacketType byte

// The Socket.IO v5 packet types.
const (
	PacketConnect      PacketType = 0
	PacketDisconnect   PacketType = 1
	PacketEvent        PacketType = 2
	PacketAck          PacketType = 3
	PacketConnectError PacketType = 4
	PacketBinaryEvent  PacketType = 5
	PacketBinaryAck    PacketType = 6
)

// String returns the upstream name of the type.
func (t PacketType) String() string {
	switch t {
	case PacketConnect:
		return "CONNECT"
	case PacketDisconnect:
		return "DISCONNECT"
	case PacketEvent:
		return "EVENT"
	case PacketAck:
		return "ACK"
	case PacketConnectError:
		return "CONNECT_ERROR"
	case PacketBinaryEvent:
		return "BINARY_EVENT"
	case PacketBinaryAck:
		return "BINARY_ACK"
	}
	return "PacketType(" + strconv.Itoa(int(t)) + ")"
}

func (t PacketType) binary() bool { return t == PacketBinaryEvent || t == PacketBinaryAck }

// maxAckID bounds ack ids to what a JavaScript number holds exactly.
const maxAckID = 1<<53 - 1

// Default decoder limits.
const (
	DefaultMaxAttachments = 10
	DefaultMaxPacketBytes = 1_000_000
)

// ErrInvalidPacket is wrapped by every decoding error.
var ErrInvalidPacket = errors.New("socketio: invalid packet")

// reservedEvents may be neither received nor emitted: the client and server libraries give these
// names a meaning of their own (upstream socket.io-parser refuses them too).
var reservedEvents = map[string]bool{
	"connect": true, "connect_error": true, "disconnect": true, "disconnecting": true,
	"newListener": true, "removeListener": true,
}

// Packet is one Socket.IO packet. Data is the JSON payload exactly as it travels, so binary
// attachments appear in it as {"_placeholder":true,"num":N} objects and their bytes in Attachments.
type Packet struct {
	Type        PacketType
	Namespace   string // "" or "/" for the main namespace
	ID          uint64 // ack id, meaningful when HasID
	HasID       bool
	Data        json.RawMessage // nil when the packet carries no payload
	Attachments [][]byte

	// elems caches the top-level elements of an EVENT or ACK array found while decoding.
	elems []json.RawMessage
}

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidPacket}, a...)...)
}

// Encode returns the Engine.IO messages carrying p: one text message, then one binary message per
// attachment. The result may be sent to any number of connections; it must not be modified.
// For binary types the attachment count is len(p.Attachments).
func (p *Packet) Encode() ([]engineio.Message, error) {
	if p.Type > PacketBinaryAck {
		return nil, fmt.Errorf("socketio: encode: unknown packet type %d", p.Type)
	}
	if !p.Type.binary() && len(p.Attachments) > 0 {
		return nil, fmt.Errorf("socketio: encode: %s cannot carry attachments", p.Type)
	}
	if p.HasID && p.ID > maxAckID {
		return nil, fmt.Errorf("socketio: encode: ack id %d out of range", p.ID)
	}
	msgs := make([]engineio.Message, 0, 1+len(p.Attachments))
	msgs = append(msgs, engineio.NewText(16+len(p.Namespace)+len(p.Data), p.appendText))
	for _, a := range p.Attachments {
		msgs = append(msgs, engineio.Message{Binary: true, Data: a})
	}
	return msgs, nil
}

func (p *Packet) appendText(b []byte) []byte {
	b = append(b, '0'+byte(p.Type))
	if p.Type.binary() {
		b = strconv.AppendInt(b, int64(len(p.Attachments)), 10)
		b = append(b, '-')
	}
	if p.Namespace != "" && p.Namespace != "/" {
		b = append(b, p.Namespace...)
		b = append(b, ',')
	}
	if p.HasID {
		b = strconv.AppendUint(b, p.ID, 10)
	}
	return append(b, p.Data...)
}

// Decoder turns a connection's Engine.IO messages back into packets, collecting the binary
// attachments that follow a BINARY_EVENT or BINARY_ACK header. The zero value uses the default
// limits. A Decoder is not safe for concurrent use; after an error it must be discarded.
type Decoder struct {
	MaxAttachments int   // default DefaultMaxAttachments
	MaxBytes       int64 // bound on a packet's text plus attachments; default DefaultMaxPacketBytes

	pending *Packet
	want    int
	size    int64
}

// Add decodes one message. It returns the completed packet, or nil while attachments are still
// awaited. Any malformed input returns an error wrapping ErrInvalidPacket.
func (d *Decoder) Add(m engineio.Message) (*Packet, error) {
	maxBytes := d.MaxBytes
	if maxBytes <= 0 {
		maxBytes = DefaultMaxPacketBytes
	}
	if m.Binary {
		if d.pending == nil {
			return nil, invalid("binary message outside a binary packet")
		}
		d.size += int64(len(m.Data))
		if d.size > maxBytes {
			return nil, invalid("packet exceeds %d bytes", maxBytes)
		}
		d.pending.Attachments = append(d.pending.Attachments, m.Data)
		if len(d.pending.Attachments) < d.want {
			return nil, nil
		}
		p := d.pending
		d.pending = nil
		if err := checkPlaceholders(p.Data, len(p.Attachments)); err != nil {
			return nil, err
		}
		return p, nil
	}
	if d.pending != nil {
		return nil, invalid("text message while %d attachments are awaited", d.want-len(d.pending.Attachments))
	}
	if int64(len(m.Data)) > maxBytes {
		return nil, invalid("packet exceeds %d bytes", maxBytes)
	}
	maxAtt := d.MaxAttachments
	if maxAtt <= 0 {
		maxAtt = DefaultMaxAttachments
	}
	p, n, err := decodeText(m.Data, maxAtt)
	if err != nil {
		return nil, err
	}
	if p.Type.binary() && n > 0 {
		d.pending, d.want, d.size = p, n, int64(len(m.Data))
		p.Attachments = make([][]byte, 0, n)
		return nil, nil
	}
	if p.Type.binary() {
		if err := checkPlaceholders(p.Data, 0); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Pending reports whether attachments are still awaited.
func (d *Decoder) Pending() bool { return d.pending != nil }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// decodeText parses `<type>[<attachments>-][<nsp>,][<ackId>][JSON]` and validates the payload
// against the type. It returns the packet and the number of attachments announced.
func decodeText(s []byte, maxAtt int) (*Packet, int, error) {
	if len(s) == 0 {
		return nil, 0, invalid("empty message")
	}
	if s[0] < '0' || s[0] > '6' {
		return nil, 0, invalid("unknown type %q", s[0])
	}
	p := &Packet{Type: PacketType(s[0] - '0'), Namespace: "/"}
	i := 1
	n := 0
	if p.Type.binary() {
		start := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == start || i >= len(s) || s[i] != '-' || i-start > 3 {
			return nil, 0, invalid("bad attachment count")
		}
		n, _ = strconv.Atoi(string(s[start:i]))
		if n > maxAtt {
			return nil, 0, invalid("%d attachments exceed the limit of %d", n, maxAtt)
		}
		i++
	}
	if i < len(s) && s[i] == '/' {
		start := i
		for i < len(s) && s[i] != ',' {
			i++
		}
		p.Namespace = string(s[start:i])
		if i < len(s) {
			i++ // the comma
		}
	}
	if i < len(s) && isDigit(s[i]) {
		start := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i-start > 16 {
			return nil, 0, invalid("ack id too long")
		}
		id, err := strconv.ParseUint(string(s[start:i]), 10, 64)
		if err != nil || id > maxAckID {
			return nil, 0, invalid("ack id out of range")
		}
		p.ID, p.HasID = id, true
	}
	if i < len(s) {
		p.Data = json.RawMessage(s[i:])
	}
	if err := p.validate(); err != nil {
		return nil, 0, err
	}
	return p, n, nil
}

func firstByte(b []byte) byte {
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) == 0 {
		return 0
	}
	return b[0]
}

// validate applies the rules of upstream socket.io-parser, stricter where the brief asks:
// EVENT needs a non-empty array headed by a non-reserved string, ACK an array, CONNECT an object
// if anything, DISCONNECT nothing, CONNECT_ERROR an object or a string.
func (p *Packet) validate() error {
	switch p.Type {
	case PacketConnect:
		if p.HasID {
			return invalid("CONNECT with an ack id")
		}
		if p.Data != nil && (firstByte(p.Data) != '{' || !json.Valid(p.Data)) {
			return invalid("CONNECT payload is not an object")
		}
	case PacketDisconnect:
		if p.HasID || p.Data != nil {
			return invalid("DISCONNECT with a payload")
		}
	case PacketConnectError:
		if p.HasID {
			return invalid("CONNECT_ERROR with an ack id")
		}
		c := firstByte(p.Data)
		if (c != '{' && c != '"') || !json.Valid(p.Data) {
			return invalid("CONNECT_ERROR payload is neither an object nor a string")
		}
	case PacketEvent, PacketBinaryEvent:
		elems, err := splitArray(p.Data)
		if err != nil {
			return err
		}
		if len(elems) == 0 {
			return invalid("EVENT without a name")
		}
		var name string
		if firstByte(elems[0]) != '"' || json.Unmarshal(elems[0], &name) != nil {
			return invalid("EVENT name is not a string")
		}
		if reservedEvents[name] {
			return invalid("reserved event name %q", name)
		}
		p.elems = elems
	case PacketAck, PacketBinaryAck:
		if !p.HasID {
			return invalid("ACK without an id")
		}
		elems, err := splitArray(p.Data)
		if err != nil {
			return err
		}
		p.elems = elems
	}
	return nil
}

func splitArray(data []byte) ([]json.RawMessage, error) {
	if firstByte(data) != '[' {
		return nil, invalid("payload is not an array")
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(data, &elems); err != nil {
		return nil, invalid("payload: %v", err)
	}
	if elems == nil {
		elems = []json.RawMessage{}
	}
	return elems, nil
}

// checkPlaceholders walks the payload of a binary packet: every {"_placeholder":true} object must
// name an attachment that exists, as upstream reconstruction requires.
func checkPlaceholders(data []byte, n int) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return invalid("payload: %v", err)
	}
	return walkPlaceholders(v, n)
}

func walkPlaceholders(v any, n int) error {
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			if err := walkPlaceholders(e, n); err != nil {
				return err
			}
		}
	case map[string]any:
		if ph, ok := v["_placeholder"].(bool); ok && ph {
			if _, ok := placeholderIndex(v, n); !ok {
				return invalid("placeholder names no attachment")
			}
			return nil
		}
		for _, e := range v {
			if err := walkPlaceholders(e, n); err != nil {
				return err
			}
		}
	}
	return nil
}

func placeholderIndex(v map[string]any, n int) (int, bool) {
	num, ok := v["num"].(json.Number)
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(num.String())
	if err != nil || i < 0 || i >= n {
		return 0, false
	}
	return i, true
}

// placeholderAt returns the attachment index when raw is exactly a placeholder object.
func placeholderAt(raw json.RawMessage, n int) (int, bool) {
	if firstByte(raw) != '{' || !bytes.Contains(raw, []byte(`"_placeholder"`)) {
		return 0, false
	}
	var ph struct {
		Placeholder bool        `json:"_placeholder"`
		Num         json.Number `json:"num"`
	}
	if json.Unmarshal(raw, &ph) != nil || !ph.Placeholder {
		return 0, false
	}
	i, err := strconv.Atoi(ph.Num.String())
	if err != nil || i < 0 || i >= n {
		return 0, false
	}
	return i, true
}

// encodeArgs builds the JSON array of an EVENT (head non-empty: the event name) or ACK payload.
// Top-level []byte arguments become attachments; json.RawMessage arguments are used verbatim.
func encodeArgs(head string, withHead bool, args []any) (json.RawMessage, [][]byte, error) {
	var b bytes.Buffer
	b.WriteByte('[')
	if withHead {
		hb, err := json.Marshal(head)
		if err != nil {
			return nil, nil, err
		}
		b.Write(hb)
	}
	var atts [][]byte
	for i, a := range args {
		if i > 0 || withHead {
			b.WriteByte(',')
		}
		switch v := a.(type) {
		case []byte:
			b.WriteString(`{"_placeholder":true,"num":`)
			b.WriteString(strconv.Itoa(len(atts)))
			b.WriteByte('}')
			atts = append(atts, bytes.Clone(v))
		case json.RawMessage:
			if !json.Valid(v) {
				return nil, nil, fmt.Errorf("socketio: argument %d: invalid raw JSON", i)
			}
			b.Write(v)
		default:
			ab, err := json.Marshal(v)
			if err != nil {
				return nil, nil, fmt.Errorf("socketio: argument %d: %w", i, err)
			}
			b.Write(ab)
		}
	}
	b.WriteByte(']')
	return b.Bytes(), atts, nil
}

// EncodeEvent encodes an EVENT (or BINARY_EVENT when an argument is a []byte) for namespace nsp,
// without an ack id. Use it to encode once and send the result to many connections.
func EncodeEvent(nsp, event string, args ...any) ([]engineio.Message, error) {
	p, err := eventPacket(nsp, event, args)
	if err != nil {
		return nil, err
	}
	return p.Encode()
}

func eventPacket(nsp, event string, args []any) (*Packet, error) {
	if reservedEvents[event] {
		return nil, fmt.Errorf("socketio: %q is a reserved event name", event)
	}
	data, atts, err := encodeArgs(event, true, args)
	if err != nil {
		return nil, err
	}
	t := PacketEvent
	if len(atts) > 0 {
		t = PacketBinaryEvent
	}
	return &Packet{Type: t, Namespace: nsp, Data: data, Attachments: atts}, nil
}

func ackPacket(nsp string, id uint64, args []any) (*Packet, error) {
	data, atts, err := encodeArgs("", false, args)
	if err != nil {
		return nil, err
	}
	t := PacketAck
	if len(atts) > 0 {
		t = PacketBinaryAck
	}
	return &Packet{Type: t, Namespace: nsp, ID: id, HasID: true, Data: data, Attachments: atts}, nil
}

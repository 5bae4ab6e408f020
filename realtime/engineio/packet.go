package engineio

import (
	"bytes"
	"encoding/base64"
	"errors"
	"unicode/utf8"
)

// PacketType is the Engine.IO packet type, sent as one ASCII digit.
type PacketType byte

// The Engine.IO v4 packet types.
const (
	PacketOpen    PacketType = 0
	PacketClose   PacketType = 1
	PacketPing    PacketType = 2
	PacketPong    PacketType = 3
	PacketMessage PacketType = 4
	PacketUpgrade PacketType = 5
	PacketNoop    PacketType = 6
)

// recordSeparator joins the packets of one HTTP long-polling payload.
const recordSeparator = 0x1e

// ErrInvalidPacket is returned by the decoders for anything that is not a well-formed packet or payload.
var ErrInvalidPacket = errors.New("engineio: invalid packet")

// Packet is one decoded Engine.IO packet. Binary is only ever set on message packets; Data of a
// text packet is valid UTF-8.
type Packet struct {
	Type   PacketType
	Data   []byte
	Binary bool
}

// DecodePacket decodes one packet in its text form: "<type digit>[data]", or "b<base64>" for a
// binary message (the form used inside polling payloads). Data aliases b. Invalid UTF-8, an unknown
// type, an empty packet and bad base64 are all ErrInvalidPacket.
func DecodePacket(b []byte) (Packet, error) {
	if len(b) == 0 {
		return Packet{}, ErrInvalidPacket
	}
	if b[0] == 'b' {
		enc := base64.StdEncoding
		data := make([]byte, enc.DecodedLen(len(b)-1))
		n, err := enc.Decode(data, b[1:])
		if err != nil {
			return Packet{}, ErrInvalidPacket
		}
		return Packet{Type: PacketMessage, Data: data[:n], Binary: true}, nil
	}
	t := b[0] - '0'
	if t > byte(PacketNoop) {
		return Packet{}, ErrInvalidPacket
	}
	data := b[1:]
	if !utf8.Valid(data) {
		return Packet{}, ErrInvalidPacket
	}
	return Packet{Type: PacketType(t), Data: data}, nil
}

// DecodePayload decodes an HTTP long-polling body: packets in text form joined by the record
// separator 0x1e. The whole payload is rejected with ErrInvalidPacket if any packet is invalid.
// Text packets alias body.
func DecodePayload(body []byte) ([]Packet, error) {
	if len(body) == 0 {
		return nil, ErrInvalidPacket
	}
	n := bytes.Count(body, []byte{recordSeparator}) + 1
	pkts := make([]Packet, 0, n)
	for range n {
		part := body
		if i := bytes.IndexByte(body, recordSeparator); i >= 0 {
			part, body = body[:i], body[i+1:]
		}
		p, err := DecodePacket(part)
		if err != nil {
			return nil, err
		}
		pkts = append(pkts, p)
	}
	return pkts, nil
}

// AppendPacket appends the text form of p to dst: binary messages as "b<base64>", everything else
// as "<type digit><data>".
func AppendPacket(dst []byte, p Packet) []byte {
	if p.Binary {
		dst = append(dst, 'b')
		return base64.StdEncoding.AppendEncode(dst, p.Data)
	}
	dst = append(dst, '0'+byte(p.Type))
	return append(dst, p.Data...)
}

// EncodePayload encodes packets as one HTTP long-polling body, joined by the record separator.
func EncodePayload(pkts []Packet) []byte {
	n := 0
	for _, p := range pkts {
		if p.Binary {
			n += 2 + base64.StdEncoding.EncodedLen(len(p.Data))
		} else {
			n += 2 + len(p.Data)
		}
	}
	dst := make([]byte, 0, n)
	for i, p := range pkts {
		if i > 0 {
			dst = append(dst, recordSeparator)
		}
		dst = AppendPacket(dst, p)
	}
	return dst
}

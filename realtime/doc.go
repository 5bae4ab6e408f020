// Package realtime is the embedded realtime broker: the Socket.IO v4 wire protocol (subpackages
// engineio and socketio), sessions, the room index, presence, typing and cursors, replay of missed
// events, kicks, and the bus that links several processes.
package realtime

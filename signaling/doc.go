// Package signaling runs a meeting's live room: the WebSocket signalling protocol
// (described message by message in PROTOCOL.md), the participants and their grants,
// the selective forwarding unit built on pion/webrtc that carries their audio and
// video, and the bus that brings meeting events to the room from any node.
//
// A Hub owns every room on this node. Each room is run by one goroutine that owns its
// state; WebRTC callbacks and client messages only post work to it. Media never passes
// through that goroutine: each published track is read once by its own goroutine,
// which writes each packet to every subscriber through one shared UDP socket whose
// writes never block (its bounded queue drops rather than wait), so that a slow
// subscriber holds up no one; the copies of a packet leave in batches (sendmmsg).
//
// Where several nodes serve one deployment, each meeting's room is hosted by one of
// them at a time: a RoomDirectory (in memory, or in Redis through redisbus) records
// which, under a lease the hosting node renews while the room lives, and a connection
// that reaches another node is sent to the host.
//
// The package knows nothing of agendas or votes. Meeting events arrive as MeetingEvent
// values (through a Bus or Hub.Deliver), and the room reports who is present through
// the Presence interface, which the attendance code satisfies.
package signaling

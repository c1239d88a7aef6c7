package signaling

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestDecodeClientMessage(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      string
		want    ClientMessage
		wantErr string // substring of the error; empty: no error
	}{
		{name: "join", in: `{"v":1,"type":"join","id":"j","token":"t","last_seq":4}`,
			want: ClientMessage{V: 1, Type: MsgJoin, ID: "j", Token: "t", LastSeq: 4}},
		{name: "resume only", in: `{"v":1,"type":"join","resume":"r"}`,
			want: ClientMessage{V: 1, Type: MsgJoin, Resume: "r"}},
		{name: "unknown fields ignored", in: `{"type":"ping","later":true}`, want: ClientMessage{Type: MsgPing}},
		{name: "mute", in: `{"type":"mute","kind":"video"}`, want: ClientMessage{Type: MsgMute, Kind: KindVideo}},
		{name: "mute all defaults", in: `{"type":"mute_all"}`, want: ClientMessage{Type: MsgMuteAll}},
		{name: "grant floor", in: `{"type":"grant_floor","identity":"a","item_id":7}`,
			want: ClientMessage{Type: MsgGrantFloor, Identity: "a", ItemID: 7}},
		{name: "not JSON", in: `{"type":`, wantErr: "unexpected end"},
		{name: "not an object", in: `[1,2]`, wantErr: "cannot unmarshal"},
		{name: "no type", in: `{}`, wantErr: "type required"},
		{name: "unknown type", in: `{"type":"dance"}`, wantErr: `unknown type "dance"`},
		{name: "join without token", in: `{"v":1,"type":"join"}`, wantErr: "token or resume required"},
		{name: "negative last seq", in: `{"v":1,"type":"join","token":"t","last_seq":-1}`, wantErr: "negative last_seq"},
		{name: "offer without sdp", in: `{"type":"offer"}`, wantErr: "sdp required"},
		{name: "candidate missing", in: `{"type":"candidate"}`, wantErr: "candidate required"},
		{name: "mute without kind", in: `{"type":"mute"}`, wantErr: "kind must be"},
		{name: "mute bad kind", in: `{"type":"unmute","kind":"smell"}`, wantErr: "kind must be"},
		{name: "grant floor to nobody", in: `{"type":"grant_floor"}`, wantErr: "identity required"},
		{name: "remove nobody", in: `{"type":"remove_participant"}`, wantErr: "identity required"},
		{name: "long id", in: `{"type":"ping","id":"` + strings.Repeat("i", 65) + `"}`, wantErr: "id too long"},
		{name: "long identity", in: `{"type":"mute_participant","identity":"` + strings.Repeat("i", 129) + `"}`, wantErr: "identity too long"},
		{name: "wrong field type", in: `{"type":"grant_floor","identity":"a","item_id":"seven"}`, wantErr: "cannot unmarshal"},
		{name: "cast", in: `{"type":"cast","id":"c","ballot":{ "ballot" : "AAE=", "signature":"Ag==" }}`,
			want: ClientMessage{Type: MsgCast, ID: "c", Ballot: json.RawMessage(`{"ballot":"AAE=","signature":"Ag=="}`)}},
		{name: "cast without a ballot", in: `{"type":"cast"}`, wantErr: "ballot required"},
		{name: "cast a string", in: `{"type":"cast","ballot":"AAE="}`, wantErr: "ballot required"},
		{name: "cast null", in: `{"type":"cast","ballot":null}`, wantErr: "ballot required"},
		{name: "ballot on another message", in: `{"type":"ping","ballot":{}}`, wantErr: "only sent with cast"},
		{name: "receive", in: `{"type":"receive","id":"r1","video":false}`,
			want: ClientMessage{Type: MsgReceive, ID: "r1", Video: new(false)}},
		{name: "receive both", in: `{"type":"receive","audio":true,"video":true}`,
			want: ClientMessage{Type: MsgReceive, Audio: new(true), Video: new(true)}},
		{name: "receive nothing", in: `{"type":"receive"}`, wantErr: "audio or video required"},
		{name: "receive null", in: `{"type":"receive","video":null}`, wantErr: "audio or video required"},
		{name: "receive a string", in: `{"type":"receive","video":"off"}`, wantErr: "cannot unmarshal"},
		{name: "video on another message", in: `{"type":"mute","kind":"video","video":false}`, wantErr: "only sent with receive"},
		{name: "long ballot", in: `{"type":"cast","ballot":{"b":"` + strings.Repeat("a", 2100) + `"}}`, wantErr: "ballot too long"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeClientMessage([]byte(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, ErrBadMessage) {
					t.Fatalf("DecodeClientMessage(%s) error = %v, want ErrBadMessage containing %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeClientMessage(%s): %v", tc.in, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("DecodeClientMessage(%s) = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
}

// FuzzDecodeClientMessage checks that the decoder never panics and that whatever it
// accepts survives a round trip unchanged.
func FuzzDecodeClientMessage(f *testing.F) {
	for _, s := range []string{
		`{"v":1,"type":"join","token":"t","resume":"r","last_seq":3}`,
		`{"type":"offer","id":"o1","sdp":"v=0\r\n"}`,
		`{"type":"candidate","candidate":{"candidate":"candidate:1 1 udp 1 1.2.3.4 5 typ host","sdpMid":"0","sdpMLineIndex":0}}`,
		`{"type":"mute","kind":"audio"}`,
		`{"type":"grant_floor","identity":"x","item_id":9}`,
		`{"type":"remove_participant","identity":"x","reason":"disorder"}`,
		`{"type":"ping"}`, `{"type":"leave"}`, `{}`, `null`, `[]`, `"join"`,
		`{"type":"cast","id":"c1","ballot":{"ballot":"Y2hhbWJlcg==","signature":"AA==","public_key":"AQ=="}}`,
		`{"type":"cast","ballot":{ "a" : [1, 2] }}`, `{"type":"cast","ballot":{}}`,
		`{"type":"receive","id":"r1","video":false}`, `{"type":"receive","audio":true,"video":null}`,
		`{"type":"join","v":1e400}`, `{"type":"\u0000"}`, "{\"type\":\"ping\",\"id\":\"\xff\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := DecodeClientMessage(data)
		if err != nil {
			if !errors.Is(err, ErrBadMessage) {
				t.Fatalf("error %v does not wrap ErrBadMessage", err)
			}
			return
		}
		if !slices.Contains(ClientMessageTypes(), m.Type) {
			t.Fatalf("accepted unknown type %q", m.Type)
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("marshal accepted message: %v", err)
		}
		again, err := DecodeClientMessage(b)
		if err != nil {
			t.Fatalf("re-decode %s: %v", b, err)
		}
		if !reflect.DeepEqual(m, again) {
			t.Fatalf("round trip changed the message:\n%+v\n%+v", m, again)
		}
	})
}

// TestProtocolDocumented checks that PROTOCOL.md documents every message type and
// error code in the code, and nothing else.
func TestProtocolDocumented(t *testing.T) {
	doc, err := os.ReadFile("PROTOCOL.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	clientPart, serverPart, ok := strings.Cut(text, "## Server messages")
	if !ok {
		t.Fatal(`PROTOCOL.md has no "## Server messages" section`)
	}
	_, clientPart, ok = strings.Cut(clientPart, "## Client messages")
	if !ok {
		t.Fatal(`PROTOCOL.md has no "## Client messages" section`)
	}
	heading := regexp.MustCompile("(?m)^### `([a-z_]+)`$")
	documented := func(part string) []string {
		var out []string
		for _, m := range heading.FindAllStringSubmatch(part, -1) {
			out = append(out, m[1])
		}
		slices.Sort(out)
		return out
	}
	for _, tc := range []struct {
		side string
		part string
		code []string
	}{
		{"client", clientPart, ClientMessageTypes()},
		{"server", serverPart, ServerMessageTypes()},
	} {
		code := slices.Clone(tc.code)
		slices.Sort(code)
		if got := documented(tc.part); !slices.Equal(got, code) {
			t.Errorf("%s messages documented %v, in code %v", tc.side, got, code)
		}
	}
	for _, code := range ErrorCodes() {
		if !strings.Contains(serverPart, "| `"+code+"` |") {
			t.Errorf("error code %q is not in PROTOCOL.md's table of codes", code)
		}
	}
}

func TestServerMessageRoundTrip(t *testing.T) {
	in := ServerMessage{Type: MsgMeetingEvent, Seq: 9, Event: &MeetingEvent{
		MeetingID: 1, Seq: 9, Type: "vote.opened", Private: true, Data: json.RawMessage(`{"poll":3}`),
	}}
	out, err := DecodeServerMessage(encode(&in))
	if err != nil {
		t.Fatal(err)
	}
	if out.Seq != 9 || out.Event == nil || out.Event.Type != "vote.opened" || !out.Event.Private || string(out.Event.Data) != `{"poll":3}` {
		t.Errorf("round trip gave %+v (event %+v)", out, out.Event)
	}
	bad := ServerMessage{Type: MsgMeetingEvent, Seq: 3, Event: &MeetingEvent{Data: json.RawMessage(`{`)}}
	if got, err := DecodeServerMessage(encode(&bad)); err != nil || got.Type != MsgError {
		t.Errorf("encoding an event with broken data gave %+v %v, want an error message", got, err)
	}
}

func TestSendingSections(t *testing.T) {
	const head = "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
	section := func(media, port, dir string) string {
		s := "m=" + media + " " + port + " UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\n"
		if dir != "" {
			s += "a=" + dir + "\r\n"
		}
		return s
	}
	for _, tc := range []struct {
		name string
		sdp  string
		want int
	}{
		{"recvonly", head + section("audio", "9", "recvonly") + section("video", "9", "recvonly"), 0},
		{"sendrecv by default", head + section("audio", "9", ""), 1},
		{"sendonly and sendrecv", head + section("audio", "9", "sendonly") + section("video", "9", "sendrecv"), 2},
		{"rejected section", head + section("video", "0", "sendrecv"), 0},
		{"data channel", head + "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := sendingSections(tc.sdp)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("sendingSections = %d, want %d", got, tc.want)
			}
		})
	}
	if _, err := sendingSections("not sdp"); err == nil {
		t.Error("sendingSections accepted garbage")
	}
}

package signaling_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chamber/chamber/signaling"
	"github.com/chamber/chamber/signaling/client"
)

func TestChairControls(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	chair := e.join(ctx, grants("chair", signaling.RoleChair), client.Options{})
	mia := e.join(ctx, member("mia", 21), client.Options{})
	max := e.join(ctx, member("max", 22), client.Options{})
	obs := e.join(ctx, grants("obs-1", signaling.RoleObserver), client.Options{})

	floorIs := func(id string) func(signaling.ServerMessage) bool {
		return func(m signaling.ServerMessage) bool {
			return m.Type == signaling.MsgFloor && ((id == "" && m.Floor == nil) || (m.Floor != nil && m.Floor.Identity == id))
		}
	}
	muted := func(id string) func(signaling.ServerMessage) bool {
		return func(m signaling.ServerMessage) bool {
			return m.Type == signaling.MsgParticipantUpdated && m.Participant.Identity == id && m.Participant.AudioMuted
		}
	}

	for i, tc := range []struct {
		name     string
		by       *client.Client
		msg      signaling.ClientMessage // no Type: only check
		wantCode string                  // the error the actor gets, if any
		who      *client.Client          // else: who sees a message that want accepts
		want     func(signaling.ServerMessage) bool
	}{
		{name: "member may not grant the floor", by: mia,
			msg: signaling.ClientMessage{Type: signaling.MsgGrantFloor, Identity: "mia"}, wantCode: signaling.CodeForbidden},
		{name: "member may not withdraw another's floor", by: mia,
			msg: signaling.ClientMessage{Type: signaling.MsgWithdrawFloor}, wantCode: signaling.CodeForbidden},
		{name: "member may not mute another", by: mia,
			msg: signaling.ClientMessage{Type: signaling.MsgMuteParticipant, Identity: "max"}, wantCode: signaling.CodeForbidden},
		{name: "member may not mute all", by: mia,
			msg: signaling.ClientMessage{Type: signaling.MsgMuteAll}, wantCode: signaling.CodeForbidden},
		{name: "member may not remove", by: mia,
			msg: signaling.ClientMessage{Type: signaling.MsgRemoveParticipant, Identity: "max"}, wantCode: signaling.CodeForbidden},
		{name: "member may not call the next speaker", by: mia,
			msg: signaling.ClientMessage{Type: signaling.MsgNextSpeaker}, wantCode: signaling.CodeForbidden},
		{name: "member may not lower another's hand", by: mia,
			msg: signaling.ClientMessage{Type: signaling.MsgLowerHand, Identity: "max"}, wantCode: signaling.CodeForbidden},
		{name: "observer may not raise a hand", by: obs,
			msg: signaling.ClientMessage{Type: signaling.MsgRaiseHand}, wantCode: signaling.CodeForbidden},
		{name: "no one to call", by: chair,
			msg: signaling.ClientMessage{Type: signaling.MsgNextSpeaker}, wantCode: signaling.CodeNotFound},
		{name: "no such participant", by: chair,
			msg: signaling.ClientMessage{Type: signaling.MsgGrantFloor, Identity: "nobody"}, wantCode: signaling.CodeNotFound},
		{name: "observer may not have the floor", by: chair,
			msg: signaling.ClientMessage{Type: signaling.MsgGrantFloor, Identity: "obs-1"}, wantCode: signaling.CodeForbidden},
		{name: "chair grants the floor", by: chair,
			msg: signaling.ClientMessage{Type: signaling.MsgGrantFloor, Identity: "mia"}, who: mia, want: floorIs("mia")},
		{name: "observers see the floor", who: obs, want: floorIs("mia")},
		{name: "chair withdraws the floor", by: chair,
			msg: signaling.ClientMessage{Type: signaling.MsgWithdrawFloor}, who: mia, want: floorIs("")},
		{name: "member raises a hand", by: max,
			msg: signaling.ClientMessage{Type: signaling.MsgRaiseHand}, who: chair,
			want: func(m signaling.ServerMessage) bool {
				return m.Type == signaling.MsgHands && len(m.Hands) == 1 && m.Hands[0].Identity == "max"
			}},
		{name: "chair calls the next speaker", by: chair,
			msg: signaling.ClientMessage{Type: signaling.MsgNextSpeaker}, who: max, want: floorIs("max")},
		{name: "the speaker's hand is lowered", who: chair,
			want: func(m signaling.ServerMessage) bool { return m.Type == signaling.MsgHands && len(m.Hands) == 0 }},
		{name: "holder yields the floor", by: max,
			msg: signaling.ClientMessage{Type: signaling.MsgWithdrawFloor}, who: chair, want: floorIs("")},
		{name: "chair mutes one", by: chair,
			msg: signaling.ClientMessage{Type: signaling.MsgMuteParticipant, Identity: "max"}, who: max, want: muted("max")},
		{name: "chair mutes all", by: chair,
			msg: signaling.ClientMessage{Type: signaling.MsgMuteAll}, who: chair, want: muted("mia")},
		{name: "member unmutes", by: mia,
			msg: signaling.ClientMessage{Type: signaling.MsgUnmute, Kind: signaling.KindAudio}, who: chair,
			want: func(m signaling.ServerMessage) bool {
				return m.Type == signaling.MsgParticipantUpdated && m.Participant.Identity == "mia" && !m.Participant.AudioMuted
			}},
		{name: "chair removes a member", by: chair,
			msg: signaling.ClientMessage{Type: signaling.MsgRemoveParticipant, Identity: "max"}, who: max,
			want: func(m signaling.ServerMessage) bool {
				return m.Type == signaling.MsgClosed && m.Reason == signaling.ReasonRemoved
			}},
		{name: "others see the removal", who: mia,
			want: func(m signaling.ServerMessage) bool {
				return m.Type == signaling.MsgParticipantLeft && m.Identity == "max" && m.Reason == signaling.ReasonRemoved
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			marks := map[*client.Client]int{}
			for _, c := range []*client.Client{chair, mia, max, obs} {
				marks[c] = c.Mark()
			}
			if tc.msg.Type != "" {
				tc.msg.ID = fmt.Sprintf("case-%d", i)
				if err := tc.by.Send(tc.msg); err != nil {
					t.Fatal(err)
				}
			}
			if tc.wantCode != "" {
				m, _, err := tc.by.Wait(ctx, marks[tc.by], func(m signaling.ServerMessage) bool { return m.Ref == tc.msg.ID })
				if err != nil {
					t.Fatalf("waiting for a reply: %v", err)
				}
				if m.Type != signaling.MsgError || m.Code != tc.wantCode {
					t.Errorf("got %s %q (%s), want error %q", m.Type, m.Code, m.Message, tc.wantCode)
				}
				return
			}
			from := marks[tc.who]
			if tc.msg.Type == "" {
				from = 0
			}
			if _, _, err := tc.who.Wait(ctx, from, tc.want); err != nil {
				t.Errorf("no matching message: %v", err)
			}
		})
	}
}

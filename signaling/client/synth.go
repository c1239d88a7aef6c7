package client

import (
	"context"
	"crypto/rand"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Synth sends synthetic media on a track: Opus-sized audio packets every 20 ms, or VP8
// frames (a keyframe every KeyframeEvery frames) split into packets of at most 1100
// bytes of payload. The payloads are random apart from the VP8 payload descriptor
// and header, which are valid so that an SFU can tell keyframes apart.
type Synth struct {
	Kind          webrtc.RTPCodecType
	Bitrate       int   // video: bits per second (default 1.5 Mbps)
	FPS           int   // video: frames per second (default 30)
	KeyframeEvery int   // video: frames between keyframes (default 2 seconds' worth)
	LevelID       uint8 // audio: negotiated id of the audio level extension (0: none)
	Level         uint8 // audio: level to advertise, in -dBov (0 is loudest)
	// OnPacket, if set, is called after each packet is written.
	OnPacket func(*rtp.Packet)
}

const synthPayload = 1100

// Run sends until ctx is done or a write fails.
func (s Synth) Run(ctx context.Context, track *webrtc.TrackLocalStaticRTP) error {
	var noise [synthPayload]byte
	rand.Read(noise[:])
	ssrcSeq := uint16(0)
	if s.Kind == webrtc.RTPCodecTypeAudio {
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		var ts uint32
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
			}
			p := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: ssrcSeq, Timestamp: ts}, Payload: noise[:120]}
			if s.LevelID != 0 {
				p.Header.SetExtension(s.LevelID, []byte{0x80 | s.Level&0x7f})
			}
			if err := track.WriteRTP(p); err != nil {
				return err
			}
			if s.OnPacket != nil {
				s.OnPacket(p)
			}
			ssrcSeq++
			ts += 960
		}
	}
	fps, bitrate, every := s.FPS, s.Bitrate, s.KeyframeEvery
	if fps <= 0 {
		fps = 30
	}
	if bitrate <= 0 {
		bitrate = 1_500_000
	}
	if every <= 0 {
		every = 2 * fps
	}
	frameBytes := bitrate / 8 / fps
	t := time.NewTicker(time.Second / time.Duration(fps))
	defer t.Stop()
	var ts uint32
	frame := make([]byte, 0, frameBytes+2)
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		key := n%every == 0
		frame = frame[:0]
		if key {
			frame = append(frame, 0x00) // VP8 payload header: P=0, a keyframe
		} else {
			frame = append(frame, 0x01)
		}
		for len(frame) < frameBytes {
			frame = append(frame, noise[:min(synthPayload, frameBytes-len(frame))]...)
		}
		for off := 0; off < len(frame); off += synthPayload - 1 {
			end := min(off+synthPayload-1, len(frame))
			desc := byte(0x00)
			if off == 0 {
				desc = 0x10 // S: the start of a partition
			}
			payload := append([]byte{desc}, frame[off:end]...)
			p := &rtp.Packet{Header: rtp.Header{
				Version: 2, PayloadType: 96, SequenceNumber: ssrcSeq, Timestamp: ts,
				Marker: end == len(frame),
			}, Payload: payload}
			if err := track.WriteRTP(p); err != nil {
				return err
			}
			if s.OnPacket != nil {
				s.OnPacket(p)
			}
			ssrcSeq++
		}
		ts += uint32(90000 / fps)
	}
}

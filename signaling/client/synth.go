package client

import (
	"context"
	"crypto/rand"
	"strings"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Synth sends synthetic media on a track: Opus-sized audio packets every 20 ms, or
// video frames (a keyframe every KeyframeEvery frames) split into packets of at most
// 1100 bytes of payload, in VP8 or, if the track's codec is H.264, in H.264. The
// payloads are random apart from the VP8 payload descriptor and header or the H.264
// NAL unit headers (and parameter sets), which are valid so that an SFU can tell
// keyframes apart.
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
	packetize, bodyBytes := packetizeVP8, frameBytes-1 // VP8's payload header is part of the frame
	if strings.EqualFold(track.Codec().MimeType, webrtc.MimeTypeH264) {
		packetize, bodyBytes = packetizeH264, frameBytes
	}
	t := time.NewTicker(time.Second / time.Duration(fps))
	defer t.Stop()
	var ts uint32
	frame := make([]byte, 0, bodyBytes)
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		frame = frame[:0]
		for len(frame) < bodyBytes {
			frame = append(frame, noise[:min(synthPayload, bodyBytes-len(frame))]...)
		}
		payloads := packetize(frame, n%every == 0)
		for i, payload := range payloads {
			p := &rtp.Packet{Header: rtp.Header{
				Version: 2, PayloadType: 96, SequenceNumber: ssrcSeq, Timestamp: ts,
				Marker: i == len(payloads)-1,
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

// packetizeVP8 makes a VP8 frame of a payload header saying whether it is a keyframe
// followed by body (RFC 7741), split into payloads each with a descriptor.
func packetizeVP8(body []byte, key bool) [][]byte {
	hdr := byte(0x01)
	if key {
		hdr = 0x00 // P=0: a keyframe
	}
	var out [][]byte
	for off := 0; off < len(body)+1; off += synthPayload - 1 {
		end := min(off+synthPayload-1, len(body)+1)
		if off == 0 {
			// S: the start of a partition, then the payload header.
			out = append(out, append([]byte{0x10, hdr}, body[:end-1]...))
			continue
		}
		out = append(out, append([]byte{0x00}, body[off-1:end-1]...))
	}
	return out
}

// H.264 NAL unit types (RFC 6184, H.264 table 7-1).
const (
	NALSlice = 1  // a coded slice of a non-IDR picture
	NALIDR   = 5  // a coded slice of an IDR picture: a keyframe
	NALSPS   = 7  // sequence parameter set
	NALPPS   = 8  // picture parameter set
	NALSTAPA = 24 // aggregation packet
	NALFUA   = 28 // fragmentation unit
)

// Parameter sets of a constrained baseline stream (profile-level-id 42e01f).
var (
	synthSPS = []byte{0x67, 0x42, 0xe0, 0x1f, 0xda, 0x01, 0x40, 0x16, 0xe8, 0x06, 0xd0, 0xa1, 0x35}
	synthPPS = []byte{0x68, 0xce, 0x06, 0xe2}
)

// packetizeH264 makes an H.264 access unit of body in packetization mode 1 (RFC 6184):
// a keyframe is the parameter sets in one STAP-A and an IDR slice, any other frame a
// non-IDR slice; a slice too large for one packet goes in FU-A fragments.
func packetizeH264(body []byte, key bool) [][]byte {
	var out [][]byte
	nal := byte(0x40 | NALSlice) // NRI 2
	if key {
		stap := []byte{0x60 | NALSTAPA}
		for _, ps := range [][]byte{synthSPS, synthPPS} {
			stap = append(stap, byte(len(ps)>>8), byte(len(ps)))
			stap = append(stap, ps...)
		}
		out = append(out, stap)
		nal = 0x60 | NALIDR // NRI 3
	}
	if len(body)+1 <= synthPayload {
		return append(out, append([]byte{nal}, body...))
	}
	for off := 0; off < len(body); off += synthPayload - 2 {
		end := min(off+synthPayload-2, len(body))
		fu := nal & 0x1f
		if off == 0 {
			fu |= 0x80 // S
		}
		if end == len(body) {
			fu |= 0x40 // E
		}
		out = append(out, append([]byte{nal&0xe0 | NALFUA, fu}, body[off:end]...))
	}
	return out
}

// H264NALType returns the type of the NAL unit an H.264 RTP payload carries, or
// starts (FU-A), or first holds (STAP-A); 0 if the payload is too short to say.
func H264NALType(payload []byte) byte {
	if len(payload) == 0 {
		return 0
	}
	switch t := payload[0] & 0x1f; t {
	case NALFUA:
		if len(payload) < 2 {
			return 0
		}
		return payload[1] & 0x1f
	case NALSTAPA:
		if len(payload) < 4 {
			return 0
		}
		return payload[3] & 0x1f
	default:
		return t
	}
}

package browsertest

import (
	"bytes"
	"testing"

	"golang.org/x/image/vp8"
)

// TestVP8Keyframe checks the synthetic keyframe with a VP8 decoder.
func TestVP8Keyframe(t *testing.T) {
	for _, size := range [][2]int{{320, 180}, {64, 48}, {17, 33}} {
		frame := vp8Keyframe(size[0], size[1])
		d := vp8.NewDecoder()
		d.Init(bytes.NewReader(frame), len(frame))
		fh, err := d.DecodeFrameHeader()
		if err != nil {
			t.Fatalf("%dx%d: header: %v", size[0], size[1], err)
		}
		if !fh.KeyFrame || fh.Width != size[0] || fh.Height != size[1] {
			t.Fatalf("%dx%d: got header %+v", size[0], size[1], fh)
		}
		img, err := d.DecodeFrame()
		if err != nil {
			t.Fatalf("%dx%d: decode: %v", size[0], size[1], err)
		}
		if got := img.Y[len(img.Y)/2]; got != 128 {
			t.Errorf("%dx%d: luma %d, want 128", size[0], size[1], got)
		}
	}
}

package voting

import (
	"encoding/binary"
	"fmt"
	"math"
)

// The binary encodings here (ballots, log entries) share a few rules: integers are
// big-endian and fixed width, ids and times are unsigned 64-bit with the top bit clear
// (so that they fit an int64), and every variable-length field carries its length first.

// encoder appends fields to a byte slice.
type encoder struct{ b []byte }

func (e *encoder) raw(p []byte)     { e.b = append(e.b, p...) }
func (e *encoder) u8(v uint8)       { e.b = append(e.b, v) }
func (e *encoder) u16(v uint16)     { e.b = binary.BigEndian.AppendUint16(e.b, v) }
func (e *encoder) u32(v uint32)     { e.b = binary.BigEndian.AppendUint32(e.b, v) }
func (e *encoder) i64(v int64)      { e.b = binary.BigEndian.AppendUint64(e.b, uint64(v)) }
func (e *encoder) str8(s string)    { e.u8(uint8(len(s))); e.b = append(e.b, s...) }
func (e *encoder) bytes16(p []byte) { e.u16(uint16(len(p))); e.b = append(e.b, p...) }
func (e *encoder) bool(v bool) {
	if v {
		e.u8(1)
	} else {
		e.u8(0)
	}
}

// decoder reads fields from a byte slice. The first error sticks: later reads return
// zero values, and err reports where decoding first failed.
type decoder struct {
	b   []byte
	off int
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: at byte %d: %s", ErrMalformed, d.off, fmt.Sprintf(format, args...))
	}
}

func (d *decoder) take(n int, what string) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || len(d.b)-d.off < n {
		d.fail("%s: need %d bytes, have %d", what, n, len(d.b)-d.off)
		return nil
	}
	p := d.b[d.off : d.off+n]
	d.off += n
	return p
}

func (d *decoder) u8(what string) uint8 {
	p := d.take(1, what)
	if p == nil {
		return 0
	}
	return p[0]
}

func (d *decoder) u16(what string) uint16 {
	p := d.take(2, what)
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint16(p)
}

func (d *decoder) u32(what string) uint32 {
	p := d.take(4, what)
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint32(p)
}

// i64 reads a 64-bit field whose top bit must be clear.
func (d *decoder) i64(what string) int64 {
	p := d.take(8, what)
	if p == nil {
		return 0
	}
	v := binary.BigEndian.Uint64(p)
	if v > math.MaxInt64 {
		d.off -= 8
		d.fail("%s: %d does not fit a signed 64-bit integer", what, v)
		return 0
	}
	return int64(v)
}

// id reads an id, which must be positive.
func (d *decoder) id(what string) int64 {
	v := d.i64(what)
	if d.err == nil && v == 0 {
		d.off -= 8
		d.fail("%s: id 0", what)
	}
	return v
}

func (d *decoder) bool(what string) bool {
	v := d.u8(what)
	if v > 1 {
		d.off--
		d.fail("%s: %d is neither 0 nor 1", what, v)
	}
	return v == 1
}

func (d *decoder) str8(what string) string {
	n := d.u8(what + " length")
	return string(d.take(int(n), what))
}

func (d *decoder) bytes16(what string) []byte {
	n := d.u16(what + " length")
	return d.take(int(n), what)
}

// end fails unless every byte has been read.
func (d *decoder) end() error {
	if d.err == nil && d.off != len(d.b) {
		d.fail("%d trailing bytes", len(d.b)-d.off)
	}
	return d.err
}

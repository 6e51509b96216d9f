package clipboard

import (
	"encoding/binary"
	"unicode/utf16"
)

// clip.exe reads the console code page unless the text is UTF-16LE with
// its byte order mark.
func tools() []tool { return []tool{{[]string{"clip.exe"}, utf16le}} }

func utf16le(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2+2*len(u))
	b[0], b[1] = 0xff, 0xfe
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2+2*i:], c)
	}
	return b
}

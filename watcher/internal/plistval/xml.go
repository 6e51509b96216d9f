package plistval

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"howett.net/plist"
)

// xmlDec decodes an XML plist token by token. It recurses once per
// container level, and never deeper than the budget's MaxDepth, which is
// checked before each level is entered.
type xmlDec struct {
	d *xml.Decoder
	b *budget
}

func decodeXML(b *budget, body []byte) (any, error) {
	x := &xmlDec{d: xml.NewDecoder(bytes.NewReader(body)), b: b}
	x.d.Strict = true
	start, err := x.nextStart()
	if err != nil {
		return nil, err
	}
	if start.Name.Local != "plist" {
		// A bare value without the <plist> wrapper, as howett accepts.
		return x.value(start, 0)
	}
	inner, err := x.nextStart()
	if err != nil {
		return nil, err
	}
	return x.value(inner, 0)
}

// nextStart skips the prolog, comments and white space up to the next
// element. Any end element or text on the way is a malformed document.
func (x *xmlDec) nextStart() (xml.StartElement, error) {
	for {
		tok, err := x.d.RawToken()
		if err != nil {
			return xml.StartElement{}, xmlErr(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return t, nil
		case xml.EndElement:
			return xml.StartElement{}, fmt.Errorf("XML: unexpected </%s>", clipName(t.Name.Local))
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return xml.StartElement{}, errors.New("XML: text outside an element")
			}
		}
	}
}

// xmlErr keeps the parser's position but not the input it quotes (a pair
// record holds private keys).
func xmlErr(err error) error {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("XML syntax error on line %d", se.Line)
	}
	if errors.Is(err, io.EOF) {
		return errors.New("XML: document ends early")
	}
	return fmt.Errorf("XML: %w", err)
}

func (x *xmlDec) value(start xml.StartElement, depth int) (any, error) {
	if err := x.b.value(depth); err != nil {
		return nil, err
	}
	name := start.Name.Local
	switch name {
	case "dict":
		return x.dict(depth)
	case "array":
		return x.array(depth)
	case "true", "false":
		if _, err := x.text(name); err != nil {
			return nil, err
		}
		return name == "true", nil
	}
	s, err := x.text(name)
	if err != nil {
		return nil, err
	}
	switch name {
	case "string":
		return s, nil
	case "integer":
		return parseXMLInt(strings.TrimSpace(s))
	case "real":
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return nil, errors.New("XML: malformed <real>")
		}
		return f, nil
	case "date":
		t, err := time.ParseInLocation(time.RFC3339, strings.TrimSpace(s), time.UTC)
		if err != nil {
			return nil, errors.New("XML: malformed <date>")
		}
		return t, nil
	case "data":
		clean := strings.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
				return -1
			}
			return r
		}, s)
		out, err := base64.StdEncoding.DecodeString(clean)
		if err != nil {
			return nil, errors.New("XML: malformed base64 in <data>")
		}
		return out, nil
	}
	return nil, fmt.Errorf("XML: unknown element <%s>", clipName(name))
}

func (x *xmlDec) dict(depth int) (any, error) {
	m := map[string]any{}
	var key *string
	for {
		tok, err := x.d.RawToken()
		if err != nil {
			return nil, xmlErr(err)
		}
		switch t := tok.(type) {
		case xml.EndElement:
			if t.Name.Local != "dict" {
				return nil, fmt.Errorf("XML: </%s> closes <dict>", clipName(t.Name.Local))
			}
			if key != nil {
				return nil, errors.New("XML: dictionary key without a value")
			}
			if uid, ok := asUID(m); ok {
				return uid, nil
			}
			return m, nil
		case xml.StartElement:
			if t.Name.Local == "key" {
				if key != nil {
					return nil, errors.New("XML: two keys in a row")
				}
				k, err := x.text("key")
				if err != nil {
					return nil, err
				}
				key = &k
				continue
			}
			if key == nil {
				return nil, errors.New("XML: dictionary value without a key")
			}
			v, err := x.value(t, depth+1)
			if err != nil {
				return nil, err
			}
			m[*key] = v
			key = nil
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return nil, errors.New("XML: text inside <dict>")
			}
		}
	}
}

func (x *xmlDec) array(depth int) (any, error) {
	out := []any{}
	for {
		tok, err := x.d.RawToken()
		if err != nil {
			return nil, xmlErr(err)
		}
		switch t := tok.(type) {
		case xml.EndElement:
			if t.Name.Local != "array" {
				return nil, fmt.Errorf("XML: </%s> closes <array>", clipName(t.Name.Local))
			}
			return out, nil
		case xml.StartElement:
			v, err := x.value(t, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return nil, errors.New("XML: text inside <array>")
			}
		}
	}
}

// text reads character data up to </name>.
func (x *xmlDec) text(name string) (string, error) {
	var sb strings.Builder
	for {
		tok, err := x.d.RawToken()
		if err != nil {
			return "", xmlErr(err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			if err := x.b.spend(len(t)); err != nil {
				return "", err
			}
			sb.Write(t)
		case xml.EndElement:
			if t.Name.Local != name {
				return "", fmt.Errorf("XML: </%s> closes <%s>", clipName(t.Name.Local), name)
			}
			return sb.String(), nil
		case xml.StartElement:
			return "", fmt.Errorf("XML: <%s> inside <%s>", clipName(t.Name.Local), name)
		}
	}
}

// parseXMLInt reads decimal or 0x-hex integers, negative ones as int64.
func parseXMLInt(s string) (any, error) {
	neg := strings.HasPrefix(s, "-")
	digits := strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
	base := 10
	if strings.HasPrefix(digits, "0x") || strings.HasPrefix(digits, "0X") {
		digits, base = digits[2:], 16
	}
	if neg {
		n, err := strconv.ParseInt("-"+digits, base, 64)
		if err != nil {
			return nil, errors.New("XML: malformed <integer>")
		}
		return n, nil
	}
	n, err := strconv.ParseUint(digits, base, 64)
	if err != nil {
		return nil, errors.New("XML: malformed <integer>")
	}
	return n, nil
}

// asUID mirrors howett's reading of {CF$UID: n} as a UID.
func asUID(m map[string]any) (plist.UID, bool) {
	if len(m) != 1 {
		return 0, false
	}
	switch n := m["CF$UID"].(type) {
	case uint64:
		return plist.UID(n), true
	case int64:
		return plist.UID(uint64(n)), true
	}
	return 0, false
}

// clipName keeps element names in errors short.
func clipName(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}

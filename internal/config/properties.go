package config

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Property is one key/value pair of a properties file. Line is the line on
// which its logical line starts (1-based).
type Property struct {
	Key   string
	Value string
	Line  int
}

// ParseProperties reads Java .properties syntax, the format of Kafka's
// server.properties:
//
//   - Lines end with \n, \r\n or \r. Blank lines are skipped.
//   - A line whose first non-blank character is # or ! is a comment. A
//     comment never continues onto the next line.
//   - A line ending in an odd number of backslashes continues on the next
//     line; the backslash, the line break and the next line's leading
//     blanks are dropped.
//   - The key runs to the first unescaped '=', ':' or blank. Blanks around
//     the separator are skipped; "key value", "key=value" and "key: value"
//     are the same. A key alone has the empty value.
//   - In keys and values, \t \n \r \f are control characters, \uXXXX is a
//     UTF-16 code unit (surrogate pairs combine), and a backslash before
//     any other character stands for that character ("\=" is "=").
//
// Unlike Java, trailing blanks of a value are dropped unless escaped
// ("a=b\ " keeps its space). A repeated key appears twice; the caller keeps
// the last. The only error is a malformed \u escape, or a read error.
func ParseProperties(r io.Reader) ([]Property, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return parseProperties(data)
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\f' }

func trimLeftBlanks(s []byte) []byte {
	i := 0
	for i < len(s) && isBlank(s[i]) {
		i++
	}
	return s[i:]
}

// trailingBackslashes counts the backslashes at the end of s.
func trailingBackslashes(s []byte) int {
	n := 0
	for n < len(s) && s[len(s)-1-n] == '\\' {
		n++
	}
	return n
}

// naturalLines splits data at \n, \r\n and \r.
func naturalLines(data []byte) [][]byte {
	var lines [][]byte
	for len(data) > 0 {
		i := bytes.IndexAny(data, "\r\n")
		if i < 0 {
			lines = append(lines, data)
			break
		}
		lines = append(lines, data[:i])
		if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			i++
		}
		data = data[i+1:]
	}
	return lines
}

func parseProperties(data []byte) ([]Property, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // UTF-8 byte order mark
	lines := naturalLines(data)
	var props []Property
	for i := 0; i < len(lines); i++ {
		start := i + 1
		line := trimLeftBlanks(lines[i])
		if len(line) == 0 || line[0] == '#' || line[0] == '!' {
			continue
		}
		logical := append([]byte(nil), line...)
		cur := line
		for trailingBackslashes(cur)%2 == 1 {
			logical = logical[:len(logical)-1]
			i++
			if i >= len(lines) {
				break
			}
			cur = trimLeftBlanks(lines[i])
			logical = append(logical, cur...)
		}
		p, err := splitProperty(logical)
		if err != nil {
			return nil, fmt.Errorf("config: properties line %d: %w", start, err)
		}
		p.Line = start
		props = append(props, p)
	}
	return props, nil
}

// splitProperty splits one logical line into its unescaped key and value.
func splitProperty(line []byte) (Property, error) {
	keyEnd, valStart := len(line), len(line)
	hasSep := false
	escaped := false
	for pos := 0; pos < len(line); pos++ {
		c := line[pos]
		if escaped {
			escaped = false
			continue
		}
		if c == '\\' {
			escaped = true
			continue
		}
		if c == '=' || c == ':' {
			keyEnd, valStart, hasSep = pos, pos+1, true
			break
		}
		if isBlank(c) {
			keyEnd, valStart = pos, pos+1
			break
		}
	}
	for valStart < len(line) {
		c := line[valStart]
		if !isBlank(c) {
			if hasSep || (c != '=' && c != ':') {
				break
			}
			hasSep = true
		}
		valStart++
	}
	key, err := unescape(line[:keyEnd], false)
	if err != nil {
		return Property{}, err
	}
	val, err := unescape(line[valStart:], true)
	if err != nil {
		return Property{}, err
	}
	return Property{Key: key, Value: val}, nil
}

// unescape decodes the escapes of a key or value. With trimRight, trailing
// blanks that were not escaped are dropped.
func unescape(s []byte, trimRight bool) (string, error) {
	if bytes.IndexByte(s, '\\') < 0 {
		if trimRight {
			s = bytes.TrimRight(s, " \t\f")
		}
		return string(s), nil
	}
	var b strings.Builder
	keep := 0 // length of b up to the last character that must be kept
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			b.WriteByte(c)
			if !isBlank(c) {
				keep = b.Len()
			}
			continue
		}
		i++
		if i >= len(s) {
			break // a lone backslash at the very end stands for nothing
		}
		switch c = s[i]; c {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			u, err := hex4(s[i+1:])
			if err != nil {
				return "", err
			}
			i += 4
			r := rune(u)
			if utf16.IsSurrogate(r) {
				r = utf8.RuneError
				// A high surrogate followed by \u and a low surrogate is one rune.
				if u < 0xdc00 && i+6 < len(s) && s[i+1] == '\\' && s[i+2] == 'u' {
					if lo, err := hex4(s[i+3:]); err == nil {
						if pair := utf16.DecodeRune(rune(u), rune(lo)); pair != utf8.RuneError {
							r = pair
							i += 6
						}
					}
				}
			}
			b.WriteRune(r)
		default:
			b.WriteByte(c)
		}
		keep = b.Len()
	}
	out := b.String()
	if trimRight {
		out = out[:keep]
	}
	return out, nil
}

func hex4(s []byte) (uint16, error) {
	if len(s) < 4 {
		return 0, fmt.Errorf("malformed \\uxxxx escape")
	}
	var v uint16
	for _, c := range s[:4] {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, fmt.Errorf("malformed \\uxxxx escape %q", string(s[:4]))
		}
		v = v<<4 | uint16(d)
	}
	return v, nil
}

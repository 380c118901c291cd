package linkconf

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrInvalidJAAS is wrapped by every ParseJAAS error. The messages never
// repeat any part of the input, which holds a password.
var ErrInvalidJAAS = errors.New("linkconf: invalid JAAS config")

// Login modules, as JAAS.Module holds them.
const (
	ModulePlain = "plain"
	ModuleSCRAM = "scram"
)

const (
	plainLoginModule = "org.apache.kafka.common.security.plain.PlainLoginModule"
	scramLoginModule = "org.apache.kafka.common.security.scram.ScramLoginModule"
)

// JAAS is the part of a sasl.jaas.config that Strait uses.
type JAAS struct {
	Module   string // ModulePlain or ModuleSCRAM
	Username string
	Password string
}

// String shows the JAAS config without its password, so that printing a
// Settings does not leak it.
func (j JAAS) String() string {
	return fmt.Sprintf("JAAS{Module:%s Username:%q Password:%s}", j.Module, j.Username, hidden)
}

// GoString is String, for %#v.
func (j JAAS) GoString() string { return j.String() }

// ConfigValue renders j as a sasl.jaas.config value that ParseJAAS reads
// back as j.
func (j JAAS) ConfigValue() string {
	class := plainLoginModule
	if j.Module == ModuleSCRAM {
		class = scramLoginModule
	}
	return class + " required username=" + jaasQuote(j.Username) + " password=" + jaasQuote(j.Password) + ";"
}

func jaasQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}

// mechanismModule is the login module each SASL mechanism needs.
func mechanismModule(mechanism string) string {
	if strings.HasPrefix(mechanism, "SCRAM-") {
		return ModuleSCRAM
	}
	return ModulePlain
}

func moduleClass(module string) string {
	if module == ModuleSCRAM {
		return scramLoginModule
	}
	return plainLoginModule
}

func jaasErrorf(format string, args ...any) error {
	return &messageError{msg: fmt.Sprintf(format, args...), err: ErrInvalidJAAS}
}

// ParseJAAS parses a sasl.jaas.config value of one login module, Kafka's
// PlainLoginModule or ScramLoginModule:
//
//	org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p";
//	org.apache.kafka.common.security.scram.ScramLoginModule required username='u' password='p';
//
// The module's class name is followed by a control flag (required,
// requisite, sufficient or optional) and options NAME=VALUE separated by
// white space (newlines included). Values are unquoted words or quoted with
// " or '; inside quotes a backslash escapes the next character (\n, \t, \r,
// \b and \f are control characters). The closing ";" is optional. The
// username and password options are required; other options are ignored.
func ParseJAAS(s string) (JAAS, error) {
	p := jaasParser{s: s}
	p.skipSpace()
	class := p.word()
	var j JAAS
	switch class {
	case plainLoginModule:
		j.Module = ModulePlain
	case scramLoginModule:
		j.Module = ModuleSCRAM
	case "":
		return JAAS{}, jaasErrorf("no login module: expected %s or %s", plainLoginModule, scramLoginModule)
	default:
		// Name only the modules we know, so that a pasted secret is never echoed.
		for _, known := range []string{"PlainLoginModule", "ScramLoginModule"} {
			if strings.HasSuffix(class, "."+known) || class == known {
				return JAAS{}, jaasErrorf("write the login module's full class name, %s", moduleClass(strings.ToLower(strings.TrimSuffix(known, "LoginModule"))))
			}
		}
		for _, known := range []string{"OAuthBearerLoginModule", "Krb5LoginModule"} {
			if strings.HasSuffix(class, "."+known) || class == known {
				return JAAS{}, jaasErrorf("login module %s is not supported: use %s or %s", known, plainLoginModule, scramLoginModule)
			}
		}
		return JAAS{}, jaasErrorf("unknown login module: use %s or %s", plainLoginModule, scramLoginModule)
	}
	p.skipSpace()
	switch strings.ToLower(p.word()) {
	case "required", "requisite", "sufficient", "optional":
	default:
		return JAAS{}, jaasErrorf("the login module must be followed by a control flag (required)")
	}
	opts := map[string]string{}
	for {
		p.skipSpace()
		if p.eof() {
			break
		}
		if p.peek() == ';' {
			p.pos++
			p.skipSpace()
			if !p.eof() {
				return JAAS{}, jaasErrorf("only one login module is allowed (text after ';' at offset %d)", p.pos)
			}
			break
		}
		at := p.pos
		name := p.word()
		if name == "" {
			return JAAS{}, jaasErrorf("expected an option NAME=VALUE at offset %d", at)
		}
		p.skipSpace()
		if p.eof() || p.peek() != '=' {
			return JAAS{}, jaasErrorf("option at offset %d has no '=' and value", at)
		}
		p.pos++
		p.skipSpace()
		v, err := p.value(at)
		if err != nil {
			return JAAS{}, err
		}
		opts[name] = v
	}
	u, ok := opts["username"]
	if !ok {
		return JAAS{}, jaasErrorf("no username option")
	}
	if u == "" {
		return JAAS{}, jaasErrorf("the username option is empty")
	}
	pw, ok := opts["password"]
	if !ok {
		return JAAS{}, jaasErrorf("no password option")
	}
	j.Username, j.Password = u, pw
	return j, nil
}

type jaasParser struct {
	s   string
	pos int
}

func (p *jaasParser) eof() bool  { return p.pos >= len(p.s) }
func (p *jaasParser) peek() byte { return p.s[p.pos] }

func (p *jaasParser) skipSpace() {
	for !p.eof() {
		r, n := utf8.DecodeRuneInString(p.s[p.pos:])
		if !unicode.IsSpace(r) {
			return
		}
		p.pos += n
	}
}

// word reads up to white space or one of = ; " '.
func (p *jaasParser) word() string {
	start := p.pos
	for !p.eof() {
		r, n := utf8.DecodeRuneInString(p.s[p.pos:])
		if unicode.IsSpace(r) || r == '=' || r == ';' || r == '"' || r == '\'' {
			break
		}
		p.pos += n
	}
	return p.s[start:p.pos]
}

// value reads an option value: a quoted string or a word. at is where the
// option starts, for messages.
func (p *jaasParser) value(at int) (string, error) {
	if p.eof() {
		return "", jaasErrorf("option at offset %d has no value", at)
	}
	q := p.peek()
	if q != '"' && q != '\'' {
		w := p.word()
		if w == "" {
			return "", jaasErrorf("option at offset %d has no value", at)
		}
		return w, nil
	}
	p.pos++
	var b strings.Builder
	for !p.eof() {
		c := p.peek()
		p.pos++
		switch {
		case c == q:
			return b.String(), nil
		case c == '\\':
			if p.eof() {
				return "", jaasErrorf("option at offset %d: unterminated quoted value", at)
			}
			e := p.peek()
			p.pos++
			switch e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			default:
				b.WriteByte(e)
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", jaasErrorf("option at offset %d: unterminated quoted value", at)
}

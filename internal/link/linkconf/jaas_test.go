package linkconf

import (
	"errors"
	"strings"
	"testing"
)

func TestLinkConfJAAS(t *testing.T) {
	const plainClass = "org.apache.kafka.common.security.plain.PlainLoginModule"
	const scramClass = "org.apache.kafka.common.security.scram.ScramLoginModule"
	tests := []struct {
		name    string
		in      string
		want    JAAS
		wantErr string
	}{
		{name: "confluent cli", in: plainClass + ` required username="KEY" password="SECRET";`,
			want: JAAS{ModulePlain, "KEY", "SECRET"}},
		{name: "single quotes", in: scramClass + ` required username='u' password='p';`,
			want: JAAS{ModuleSCRAM, "u", "p"}},
		{name: "no trailing semicolon", in: plainClass + ` required username="u" password="p"`,
			want: JAAS{ModulePlain, "u", "p"}},
		{name: "newlines and tabs", in: "\n  " + plainClass + "\n\trequired\n\tusername = \"u\"\n\tpassword=\"p\"\n ; \n",
			want: JAAS{ModulePlain, "u", "p"}},
		{name: "escaped double quote", in: plainClass + ` required username="u" password="a\"b";`,
			want: JAAS{ModulePlain, "u", `a"b`}},
		{name: "escaped single quote", in: scramClass + ` required username='o\'brien' password='p';`,
			want: JAAS{ModuleSCRAM, "o'brien", "p"}},
		{name: "other quote inside", in: plainClass + ` required username="it's" password='say "hi"';`,
			want: JAAS{ModulePlain, "it's", `say "hi"`}},
		{name: "escaped backslash and control", in: plainClass + ` required username="u" password="a\\b\nc\td";`,
			want: JAAS{ModulePlain, "u", "a\\b\nc\td"}},
		{name: "semicolon and equals inside quotes", in: plainClass + ` required username="u" password="x;y=z";`,
			want: JAAS{ModulePlain, "u", "x;y=z"}},
		{name: "unquoted values", in: plainClass + ` required username=u password=p$1;`,
			want: JAAS{ModulePlain, "u", "p$1"}},
		{name: "other options ignored", in: scramClass + ` required tokenauth="true" username="u" password="p" extension_x="y";`,
			want: JAAS{ModuleSCRAM, "u", "p"}},
		{name: "later option wins", in: plainClass + ` required username="a" username="b" password="p";`,
			want: JAAS{ModulePlain, "b", "p"}},
		{name: "other control flag", in: plainClass + ` Optional username="u" password="";`,
			want: JAAS{ModulePlain, "u", ""}},
		{name: "unicode", in: plainClass + ` required username="jürgen" password="пароль";`,
			want: JAAS{ModulePlain, "jürgen", "пароль"}},

		{name: "empty", in: "", wantErr: "no login module"},
		{name: "oauth", in: "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId=\"x\";",
			wantErr: "login module OAuthBearerLoginModule is not supported"},
		{name: "kerberos", in: "com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true;", wantErr: "Krb5LoginModule is not supported"},
		{name: "short class name", in: `PlainLoginModule required username="u" password="p";`, wantErr: "full class name, " + plainClass},
		{name: "unknown module", in: `com.example.Login required username="u" password="p";`, wantErr: "unknown login module"},
		{name: "no control flag", in: plainClass + ` username="u" password="p";`, wantErr: "control flag"},
		{name: "no username", in: plainClass + ` required password="p";`, wantErr: "no username option"},
		{name: "empty username", in: plainClass + ` required username="" password="p";`, wantErr: "username option is empty"},
		{name: "no password", in: plainClass + ` required username="u";`, wantErr: "no password option"},
		{name: "unterminated", in: plainClass + ` required username="u" password="p;`, wantErr: "unterminated quoted value"},
		{name: "trailing backslash", in: plainClass + ` required username="u" password="p\`, wantErr: "unterminated quoted value"},
		{name: "option without value", in: plainClass + ` required username="u" password;`, wantErr: "has no '=' and value"},
		{name: "option with empty value", in: plainClass + ` required username="u" password=;`, wantErr: "has no value"},
		{name: "two modules", in: plainClass + ` required username="u" password="p"; ` + plainClass + ` required username="v" password="q";`,
			wantErr: "only one login module"},
		{name: "stray quote", in: plainClass + ` required "username"="u" password="p";`, wantErr: "expected an option NAME=VALUE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseJAAS(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseJAAS = %v, %v; want error containing %q", got, err, tc.wantErr)
				}
				if !errors.Is(err, ErrInvalidJAAS) {
					t.Errorf("error %v does not wrap ErrInvalidJAAS", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseJAAS = %+v, %v; want %+v", got, err, tc.want)
			}
			// What ConfigValue renders parses back to the same.
			back, err := ParseJAAS(got.ConfigValue())
			if err != nil || back != got {
				t.Errorf("round trip of %q: %+v, %v", got.ConfigValue(), back, err)
			}
		})
	}
}

// Parse errors never repeat the input, which holds a password.
func TestLinkConfJAASErrorsHideInput(t *testing.T) {
	const pw = "Zebra42Secret"
	for _, in := range []string{
		pw,
		pw + `.PlainLoginModule required`,
		`org.apache.kafka.common.security.plain.PlainLoginModule required username="u" ` + pw,
		`org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="` + pw,
		`org.apache.kafka.common.security.plain.PlainLoginModule ` + pw + ` username="u" password="p"`,
		`org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p"; ` + pw,
	} {
		_, err := ParseJAAS(in)
		if err == nil {
			t.Errorf("%q: no error", in)
			continue
		}
		if strings.Contains(err.Error(), "Zebra") {
			t.Errorf("error shows the input: %v", err)
		}
	}
}

func TestLinkConfJAASMechanismModule(t *testing.T) {
	for mech, module := range map[string]string{MechanismPlain: ModulePlain, MechanismScramSHA256: ModuleSCRAM, MechanismScramSHA512: ModuleSCRAM} {
		if got := mechanismModule(mech); got != module {
			t.Errorf("%s needs %s, got %s", mech, module, got)
		}
	}
}

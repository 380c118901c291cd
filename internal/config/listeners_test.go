package config

import (
	"errors"
	"testing"
)

func TestConfigParseListener(t *testing.T) {
	cases := []struct {
		in   string
		want Listener
		ok   bool
	}{
		{"PLAINTEXT://127.0.0.1:9092", Listener{"PLAINTEXT", "PLAINTEXT", "127.0.0.1", 9092}, true},
		{"plaintext://:0", Listener{"PLAINTEXT", "PLAINTEXT", "", 0}, true},
		{" SASL_SSL://broker.example:9093 ", Listener{"SASL_SSL", "SASL_SSL", "broker.example", 9093}, true},
		{"SSL://[::1]:9093", Listener{"SSL", "SSL", "::1", 9093}, true},
		{"INTERNAL://0.0.0.0:9094", Listener{"INTERNAL", "", "0.0.0.0", 9094}, true},
		{"127.0.0.1:9092", Listener{}, false},
		{"PLAINTEXT://127.0.0.1", Listener{}, false},
		{"PLAINTEXT://:65536", Listener{}, false},
		{"PLAINTEXT://:-1", Listener{}, false},
		{"PLAIN TEXT://:1", Listener{}, false},
		{"://:1", Listener{}, false},
		{"PLAINTEXT://::1:9092", Listener{}, false},
	}
	for _, tc := range cases {
		got, err := ParseListener(tc.in)
		if tc.ok != (err == nil) || got != tc.want {
			t.Errorf("ParseListener(%q) = %+v, %v; want %+v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("ParseListener(%q) error %v does not wrap ErrInvalidConfig", tc.in, err)
		}
	}
	if l, err := ParseHTTPListener("http://127.0.0.1:8090"); err != nil || l != (Listener{"HTTP", "HTTP", "127.0.0.1", 8090}) {
		t.Errorf("ParseHTTPListener = %+v, %v", l, err)
	}
	if _, err := ParseHTTPListener("PLAINTEXT://127.0.0.1:8090"); err == nil {
		t.Errorf("ParseHTTPListener accepted a Kafka listener")
	}
}

func FuzzConfigListener(f *testing.F) {
	for _, s := range []string{"PLAINTEXT://127.0.0.1:9092", "SSL://[::1]:0", "x://:1", "http://h:80", "a://[fe80::1%eth0]:5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseListener(s)
		if err != nil {
			return
		}
		if l.Port < 0 || l.Port > 65535 || !validListenerName(l.Name) {
			t.Fatalf("ParseListener(%q) = %+v", s, l)
		}
		again, err := ParseListener(l.String())
		if err != nil || again != l {
			t.Fatalf("round trip of %q via %q: %+v, %v; want %+v", s, l.String(), again, err, l)
		}
	})
}

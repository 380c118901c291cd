package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestConfigConnectionLimitDefaults(t *testing.T) {
	b := DefaultBroker()
	if b.MaxConnections != 1<<31-1 || b.MaxConnectionsPerIP != 1<<31-1 || b.MaxConnectionsPerIPOverrides != "" {
		t.Errorf("connection limits default to %d/%d/%q, want Kafka's MaxInt32/MaxInt32/empty",
			b.MaxConnections, b.MaxConnectionsPerIP, b.MaxConnectionsPerIPOverrides)
	}
	if b.QueuedMaxRequestBytes != 256<<20 {
		t.Errorf("queued.max.request.bytes defaults to %d, want 256 MiB", b.QueuedMaxRequestBytes)
	}
	if err := b.Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
}

func TestConfigConnectionOverrides(t *testing.T) {
	b, _ := mustLoad(t, LoadOptions{Flags: map[string]string{
		"max.connections.per.ip.overrides": " hostName:100 , 127.0.0.1:200,::1:7",
	}})
	want := map[string]int32{"hostName": 100, "127.0.0.1": 200, "::1": 7}
	if got := b.ConnectionsPerIPOverrides(); !reflect.DeepEqual(got, want) {
		t.Errorf("overrides = %v, want %v", got, want)
	}
	if b.MaxConnectionsPerIPOverrides != "127.0.0.1:200,::1:7,hostName:100" {
		t.Errorf("canonical form %q", b.MaxConnectionsPerIPOverrides)
	}
	for name, v := range map[string]string{
		"no count":       "hostName",
		"bad count":      "hostName:many",
		"negative":       "hostName:-1",
		"bad host":       "host/name:3",
		"empty host":     ":3",
		"host twice":     "a:1,a:2",
		"empty elements": "a:1,,b:2",
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := Load(LoadOptions{Flags: map[string]string{"max.connections.per.ip.overrides": v}})
			if err == nil || !strings.Contains(err.Error(), "max.connections.per.ip.overrides") {
				t.Fatalf("Load(%q) = %v, want an error naming the key", v, err)
			}
		})
	}
}

func TestConfigQueuedMaxRequestBytesBelowSocketMax(t *testing.T) {
	for _, tc := range []struct {
		name    string
		flags   map[string]string
		wantErr bool
	}{
		{"equal", map[string]string{"queued.max.request.bytes": "104857600"}, false},
		{"below", map[string]string{"queued.max.request.bytes": "104857599"}, true},
		{"below a smaller socket max", map[string]string{"queued.max.request.bytes": "1000", "socket.request.max.bytes": "999"}, false},
		{"unbounded", map[string]string{"queued.max.request.bytes": "-1"}, false},
		{"zero", map[string]string{"queued.max.request.bytes": "0"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Load(LoadOptions{Flags: tc.flags})
			if (err != nil) != tc.wantErr {
				t.Fatalf("Load(%v) = %v, want error %v", tc.flags, err, tc.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "queued.max.request.bytes") {
				t.Fatalf("error does not name the key: %v", err)
			}
		})
	}
}

func TestConfigMaxConnectionsPerIPZeroNeedsOverrides(t *testing.T) {
	if _, _, err := Load(LoadOptions{Flags: map[string]string{"max.connections.per.ip": "0"}}); err == nil ||
		!strings.Contains(err.Error(), "max.connections.per.ip") {
		t.Fatalf("max.connections.per.ip=0 alone: %v, want an error naming the key", err)
	}
	if _, _, err := Load(LoadOptions{Flags: map[string]string{"max.connections.per.ip": "0",
		"max.connections.per.ip.overrides": "10.0.0.1:5"}}); err != nil {
		t.Fatalf("max.connections.per.ip=0 with overrides: %v", err)
	}
}

func TestConfigConnectionLimitsDynamic(t *testing.T) {
	b := DefaultBroker()
	c, err := ApplyDynamic(b, map[string]string{"max.connections": "5", "max.connections.per.ip": "3",
		"max.connections.per.ip.overrides": "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxConnections != 5 || c.MaxConnectionsPerIP != 3 || c.ConnectionsPerIPOverrides()["127.0.0.1"] != 1 {
		t.Errorf("dynamic limits not applied: %d %d %q", c.MaxConnections, c.MaxConnectionsPerIP, c.MaxConnectionsPerIPOverrides)
	}
	err = ValidateDynamic(map[string]string{"max.connections.per.ip.overrides": "x:y"})
	if !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("bad dynamic overrides: %v, want ErrInvalidConfig", err)
	}
	if err := ValidateDynamic(map[string]string{"queued.max.request.bytes": "1"}); !errors.Is(err, ErrReadOnlyConfig) {
		t.Errorf("queued.max.request.bytes is read-only in Kafka: %v", err)
	}
}

// FuzzConfigConnectionOverrides: a value checkOverrides accepts parses, and
// its canonical form is accepted again and means the same.
func FuzzConfigConnectionOverrides(f *testing.F) {
	f.Add("hostName:100,127.0.0.1:200")
	f.Add("::1:7")
	f.Add("a:1,,b:2")
	f.Add("x:-1")
	f.Fuzz(func(t *testing.T, v string) {
		if checkOverrides(v) != nil {
			return
		}
		m := parseOverrides(v)
		canon := formatOverrides(m)
		if p := checkOverrides(canon); p != nil {
			t.Fatalf("canonical form %q of %q refused: %s", canon, v, p.reason)
		}
		if !reflect.DeepEqual(parseOverrides(canon), m) {
			t.Fatalf("%q and its canonical form %q differ", v, canon)
		}
	})
}

package metadata

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"
)

func TestMetadataRecordDecode(t *testing.T) {
	id := uuid.MustParse("6ba7b810-9dad-41d1-80b4-00c04fd430c8")
	cases := []struct {
		name    string
		in      string
		wantErr string // substring; "" for success
	}{
		{"minimal", `{"version":1,"name":"t","id":"6ba7b810-9dad-41d1-80b4-00c04fd430c8"}`, ""},
		{"newer version", `{"version":7,"name":"t","id":"6ba7b810-9dad-41d1-80b4-00c04fd430c8"}`, ""},
		{"no version", `{"name":"t","id":"6ba7b810-9dad-41d1-80b4-00c04fd430c8"}`, "no version"},
		{"version zero", `{"version":0,"name":"t","id":"6ba7b810-9dad-41d1-80b4-00c04fd430c8"}`, "below 1"},
		{"version string", `{"version":"1","name":"t","id":"6ba7b810-9dad-41d1-80b4-00c04fd430c8"}`, "version"},
		{"null", `null`, "null"},
		{"array", `[]`, "cannot unmarshal"},
		{"no name", `{"version":1,"id":"6ba7b810-9dad-41d1-80b4-00c04fd430c8"}`, "no name"},
		{"zero id", `{"version":1,"name":"t","id":"00000000-0000-0000-0000-000000000000"}`, "no id"},
		{"bad id", `{"version":1,"name":"t","id":"nope"}`, "id"},
		{"bad partitions", `{"version":1,"name":"t","id":"6ba7b810-9dad-41d1-80b4-00c04fd430c8","partitions":{}}`, "partitions"},
		{"bad replica", `{"version":1,"name":"t","id":"6ba7b810-9dad-41d1-80b4-00c04fd430c8","partitions":[{"replicas":["x"]}]}`, "replicas"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := decodeTopic([]byte(c.in))
			if c.wantErr == "" {
				if err != nil || r.Name != "t" || r.ID != id {
					t.Fatalf("decodeTopic = %+v, %v", r, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("decodeTopic error = %v, want one mentioning %q", err, c.wantErr)
			}
		})
	}
}

func TestMetadataRecordKeepsUnknownFields(t *testing.T) {
	in := `{"version":3,"name":"t","id":"6ba7b810-9dad-41d1-80b4-00c04fd430c8",
		"partitions":[{"replicas":[1,2],"leader":2,"leader_epoch":5,"Leader":9,"dirs":["a"]}],
		"configs":{"k":"v"},"Name":"case differs","new":{"deep":[1,{"x":"<&>"}]}}`
	r, err := decodeTopic([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	// Keys match exactly: "Name" and "Leader" are unknown fields, not aliases.
	if r.Name != "t" || r.Partitions[0].Leader != 2 || r.Version != 3 {
		t.Fatalf("decoded %+v", r)
	}
	r.Configs = map[string]string{"k2": "v2"}
	r.Partitions = append(r.Partitions, partitionRecord{Replicas: []int32{3}})
	out, err := r.encode()
	if err != nil {
		t.Fatal(err)
	}
	var got, want any
	json.Unmarshal(out, &got)
	json.Unmarshal([]byte(`{"version":3,"name":"t","id":"6ba7b810-9dad-41d1-80b4-00c04fd430c8",
		"partitions":[{"replicas":[1,2],"leader":2,"leader_epoch":5,"Leader":9,"dirs":["a"]},
		              {"replicas":[3],"leader":0,"leader_epoch":0}],
		"configs":{"k2":"v2"},"Name":"case differs","new":{"deep":[1,{"x":"<&>"}]}}`), &want)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("encoded\n%s\nwant the same as\n%v", out, want)
	}
	if tp := r.topic(1); len(tp.Extra) != 2 || tp.Extra["new"] == nil || tp.Extra["Name"] == nil {
		t.Errorf("Topic.Extra = %s", tp.Extra)
	}
}

func TestMetadataRecordOthers(t *testing.T) {
	b, err := decodeBroker([]byte(`{"version":1,"node_id":3,"host":"h","port":9092,"rack":"r","zone":"z"}`))
	if err != nil || b.NodeID != 3 || b.Host != "h" || b.Port != 9092 || b.Rack != "r" {
		t.Fatalf("decodeBroker = %+v, %v", b, err)
	}
	out, _ := b.encode()
	if !bytes.Contains(out, []byte(`"zone":"z"`)) {
		t.Errorf("broker record lost an unknown field: %s", out)
	}
	c, err := decodeConfigs([]byte(`{"version":1,"configs":{"a":"b"},"sensitive":["a"]}`))
	if err != nil || c.Configs["a"] != "b" {
		t.Fatalf("decodeConfigs = %+v, %v", c, err)
	}
	out, _ = c.encode()
	if !bytes.Contains(out, []byte(`"sensitive":["a"]`)) {
		t.Errorf("configs record lost an unknown field: %s", out)
	}
	if _, err := decodeCluster([]byte(`{"version":1}`)); err == nil {
		t.Errorf("cluster record without an id decoded")
	}
}

func TestMetadataRecordIDs(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := newClusterID()
		if len(id) != 22 || strings.HasPrefix(id, "-") || seen[id] {
			t.Fatalf("cluster ID %q (seen before: %v)", id, seen[id])
		}
		seen[id] = true
		if tid := newTopicID(); tid == uuid.Nil || tid.Version() != 4 {
			t.Fatalf("topic ID %v", tid)
		}
	}
}

// FuzzMetadataRecords feeds every record decoder. Whatever decodes must
// encode to a fixed point (decoding and encoding again changes nothing) that
// keeps every top-level key of the input.
func FuzzMetadataRecords(f *testing.F) {
	for _, seed := range []string{
		`{"version":1,"name":"t","id":"6ba7b810-9dad-41d1-80b4-00c04fd430c8","partitions":[{"replicas":[1],"leader":1,"leader_epoch":0,"x":1}],"configs":{"a":"b"},"y":[]}`,
		`{"version":1,"node_id":1,"host":"h","port":1,"rack":""}`,
		`{"version":2,"configs":{"a":"b"},"z":{"q":null}}`,
		`{"version":1,"id":"AAAAAAAAAAAAAAAAAAAAAA"}`,
	} {
		f.Add([]byte(seed))
	}
	type codec struct {
		name   string
		decode func([]byte) (func() ([]byte, error), error)
	}
	codecs := []codec{
		{"topic", func(b []byte) (func() ([]byte, error), error) { r, err := decodeTopic(b); return r.encode, err }},
		{"broker", func(b []byte) (func() ([]byte, error), error) { r, err := decodeBroker(b); return r.encode, err }},
		{"configs", func(b []byte) (func() ([]byte, error), error) { r, err := decodeConfigs(b); return r.encode, err }},
		{"cluster", func(b []byte) (func() ([]byte, error), error) { r, err := decodeCluster(b); return r.encode, err }},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, c := range codecs {
			enc, err := c.decode(data)
			if err != nil {
				continue
			}
			first, err := enc()
			if err != nil {
				t.Fatalf("%s: decoded but does not encode: %v", c.name, err)
			}
			enc2, err := c.decode(first)
			if err != nil {
				t.Fatalf("%s: own encoding %s does not decode: %v", c.name, first, err)
			}
			second, err := enc2()
			if err != nil || !bytes.Equal(first, second) {
				t.Fatalf("%s: not a fixed point:\n%s\n%s (%v)", c.name, first, second, err)
			}
			var in, out map[string]json.RawMessage
			json.Unmarshal(data, &in)
			json.Unmarshal(first, &out)
			for k := range in {
				if _, ok := out[k]; !ok {
					t.Fatalf("%s: key %q lost", c.name, k)
				}
			}
		}
	})
}

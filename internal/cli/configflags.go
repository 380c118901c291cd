package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

// configFlags are --config (repeatable) and, where offered, --config-file.
type configFlags struct {
	pairs []string
	file  string
}

// add registers --config, and --config-file when withFile.
func (c *configFlags) add(cmd *cobra.Command, usage string, withFile bool) {
	cmd.Flags().StringArrayVar(&c.pairs, "config", nil, usage+": comma-separated key=value pairs (repeatable), or the path of a file of key=value lines")
	if withFile {
		cmd.Flags().StringVar(&c.file, "config-file", "", "file of key=value lines (# starts a comment)")
	}
}

// collect merges --config-file and --config; a key given twice is an error.
func (c *configFlags) collect() (map[string]string, error) {
	out := map[string]string{}
	merge := func(m map[string]string) error {
		for k, v := range m {
			if _, dup := out[k]; dup {
				return fmt.Errorf("config %q is given twice", k)
			}
			out[k] = v
		}
		return nil
	}
	if c.file != "" {
		m, err := readConfigFile(c.file)
		if err != nil {
			return nil, err
		}
		if err := merge(m); err != nil {
			return nil, err
		}
	}
	for _, p := range c.pairs {
		var m map[string]string
		var err error
		switch {
		case !strings.Contains(p, "=") && fileExists(p):
			m, err = readConfigFile(p)
		case !strings.Contains(p, "="):
			err = fmt.Errorf("invalid --config %q: give key=value pairs or the path of a file of key=value lines (no such file)", p)
		default:
			m, err = parseConfigPairs(p)
		}
		if err != nil {
			return nil, err
		}
		if err := merge(m); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// parseConfigPairs parses "k=v,k=v". A comma-separated piece without '='
// continues the previous value, so bootstrap.servers=a:9092,b:9092 keeps
// both hosts. Keys are trimmed; values are kept as written.
func parseConfigPairs(s string) (map[string]string, error) {
	out := map[string]string{}
	var last string
	for _, piece := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(piece, "=")
		if !ok {
			if last == "" {
				if strings.TrimSpace(piece) == "" {
					continue
				}
				return nil, fmt.Errorf("invalid config %q: expected key=value", piece)
			}
			out[last] += "," + piece
			continue
		}
		k = strings.TrimSpace(k)
		if k == "" {
			return nil, fmt.Errorf("invalid config %q: empty key", piece)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("config %q is given twice", k)
		}
		out[k], last = v, k
	}
	return out, nil
}

func readConfigFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("reading config file %s: %w", path, err)
	}
	defer f.Close()
	m, err := parseConfigFile(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// parseConfigFile reads key=value lines; blank lines and lines starting
// with # are skipped, keys and values are trimmed.
func parseConfigFile(r io.Reader) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("line %d: expected key=value, got %q", n, line)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("line %d: config %q is given twice", n, k)
		}
		out[k] = strings.TrimSpace(v)
	}
	return out, sc.Err()
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// restConfigs turns a map into REST ConfigData entries, sorted by name.
func restConfigs(m map[string]string) []restConfig {
	out := make([]restConfig, 0, len(m))
	for _, k := range sortedKeys(m) {
		v := m[k]
		out = append(out, restConfig{Name: k, Value: &v})
	}
	return out
}

package config

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// LoadOptions are the inputs of Load, lowest precedence first.
type LoadOptions struct {
	File  string            // a properties file; "" for none
	Env   []string          // KEY=VALUE pairs as from os.Environ; only STRAIT_* are read
	Flags map[string]string // key -> value, from the command line
}

// entry is one explicit setting before resolution.
type entry struct {
	name, value string
	src         Source
	where       string
}

// Load builds the broker configuration from defaults, then the properties
// file, then STRAIT_* environment variables, then flags; a later source
// overrides an earlier one. It returns warnings for settings that are
// accepted but have no effect. See the package documentation for the rules.
func Load(opts LoadOptions) (*Broker, []string, error) {
	var entries []entry
	var warnings []string
	if opts.File != "" {
		f, err := os.Open(opts.File)
		if err != nil {
			return nil, nil, fmt.Errorf("config: %w", err)
		}
		props, err := ParseProperties(f)
		f.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("config: %s: %w", opts.File, err)
		}
		for _, p := range props {
			entries = append(entries, entry{p.Key, p.Value, SourceFile, fmt.Sprintf("%s line %d", opts.File, p.Line)})
		}
	}
	for _, kv := range opts.Env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(k, EnvPrefix) {
			continue
		}
		name, known := envNames[k]
		if !known {
			warnings = append(warnings, fmt.Sprintf("ignoring environment variable %s: no setting is named %s", k, envToKey(k)))
			continue
		}
		entries = append(entries, entry{name, v, SourceEnv, "environment variable " + k})
	}
	flagNames := make([]string, 0, len(opts.Flags))
	for k := range opts.Flags {
		flagNames = append(flagNames, k)
	}
	sort.Strings(flagNames)
	for _, k := range flagNames {
		entries = append(entries, entry{k, opts.Flags[k], SourceFlag, "flag " + k})
	}

	b := &Broker{Values: map[string]Value{}}
	for _, d := range brokerDefs {
		d.set(b, d.Default)
	}
	var errs []error
	for _, e := range entries {
		switch {
		case defByName[e.name] != nil:
			if p := defByName[e.name].spec.check(e.value); p != nil {
				errs = append(errs, invalidSetting(e.name, p.bad(e.value), e.where, p))
			}
		case aliasByName[e.name] != nil:
			if p := aliasByName[e.name].spec.check(e.value); p != nil {
				errs = append(errs, invalidSetting(e.name, p.bad(e.value), e.where, p))
			}
		case ignoredSet[e.name]:
			warnings = append(warnings, fmt.Sprintf("ignoring %q (%s): Strait does not use this Kafka setting", e.name, e.where))
		default:
			errs = append(errs, unknownSetting(e.name, e.where))
			continue
		}
		b.Values[e.name] = Value{Value: strings.TrimSpace(e.value), Source: e.src}
	}
	if len(errs) > 0 {
		return nil, warnings, errors.Join(errs...)
	}

	where := map[string]string{}
	for _, d := range brokerDefs {
		e, ok := winner(entries, append([]string{d.Name}, d.Aliases...))
		if !ok {
			continue
		}
		v := e.value
		if a := aliasByName[e.name]; a != nil && a.factor != 1 {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			v = strconv.FormatInt(n*a.factor, 10)
		}
		if p := d.spec.check(v); p != nil {
			return nil, warnings, invalidSetting(e.name, e.value, e.where, p)
		}
		d.set(b, v)
		where[d.Name] = e.where
	}
	if err := checkNodeIDAliases(entries); err != nil {
		return nil, warnings, err
	}
	warnings = append(warnings, dropControllerListeners(b, entries)...)
	b.resolveDerived()
	if err := b.validate(func(k string) string { return where[k] }); err != nil {
		return nil, warnings, err
	}
	return b, warnings, nil
}

// envToKey turns STRAIT_LOG_DIRZ back into log.dirz, for messages.
func envToKey(env string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(env, EnvPrefix), "_", "."))
}

// winner picks the entry that sets a setting known by names (in Kafka's
// precedence order). The highest source that sets any of the names wins as
// a whole; within it, the earlier name wins; for the same name, the last
// entry wins. So a flag log.retention.hours beats a file log.retention.ms,
// and within the file log.retention.ms beats log.retention.hours.
func winner(entries []entry, names []string) (entry, bool) {
	var best entry
	found := false
	bestIdx := 0
	for _, e := range entries {
		idx := slices.Index(names, e.name)
		if idx < 0 {
			continue
		}
		if !found || e.src > best.src || e.src == best.src && idx <= bestIdx {
			best, bestIdx, found = e, idx, true
		}
	}
	return best, found
}

// checkNodeIDAliases rejects node.id and broker.id set to different values
// in the same source, as Kafka does.
func checkNodeIDAliases(entries []entry) error {
	last := map[Source]map[string]entry{}
	for _, e := range entries {
		if e.name == "node.id" || e.name == "broker.id" {
			if last[e.src] == nil {
				last[e.src] = map[string]entry{}
			}
			last[e.src][e.name] = e
		}
	}
	for _, m := range last {
		n, okN := m["node.id"]
		bid, okB := m["broker.id"]
		if !okN || !okB {
			continue
		}
		nv, _ := strconv.ParseInt(strings.TrimSpace(n.value), 10, 64)
		bv, _ := strconv.ParseInt(strings.TrimSpace(bid.value), 10, 64)
		if nv != bv {
			return invalidSetting("broker.id", strings.TrimSpace(bid.value), bid.where,
				&problem{reason: "must equal node.id (" + strings.TrimSpace(n.value) + ", " + n.where + ")"})
		}
	}
	return nil
}

// dropControllerListeners removes the listeners named in Kafka's
// controller.listener.names: Strait's metadata lives in etcd and it has no
// controller listener, but Kafka's KRaft server.properties declares one.
func dropControllerListeners(b *Broker, entries []entry) []string {
	e, ok := winner(entries, []string{"controller.listener.names"})
	if !ok {
		return nil
	}
	names := map[string]bool{}
	for _, n := range splitList(e.value) {
		names[strings.ToUpper(n)] = true
	}
	var warnings []string
	filter := func(key string, ls []string) []string {
		var kept []string
		for _, l := range ls {
			if name, _, _, reason := splitListener(l); reason == "" && names[name] {
				warnings = append(warnings, fmt.Sprintf("dropping %s entry %q: it is a controller listener (%s), and Strait has none", key, l, e.where))
				continue
			}
			kept = append(kept, l)
		}
		return kept
	}
	b.Listeners = filter("listeners", b.Listeners)
	b.AdvertisedListeners = filter("advertised.listeners", b.AdvertisedListeners)
	return warnings
}

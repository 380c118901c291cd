package config

import (
	"fmt"
	"strings"
)

// ReferenceMarkdown renders the broker and topic settings as the tables of
// docs/configuration.md. A test keeps that file equal to this output.
func ReferenceMarkdown() string {
	var b strings.Builder
	cell := func(s string) string {
		s = strings.ReplaceAll(s, "|", `\|`)
		return strings.ReplaceAll(s, "\n", " ")
	}
	def := func(s string) string {
		if s == "" {
			return ""
		}
		return "`" + s + "`"
	}
	b.WriteString("### Broker settings\n\n")
	b.WriteString("| Name | Default | Dynamic | Description |\n|---|---|---|---|\n")
	for _, k := range Keys() {
		name := "`" + k.Name + "`"
		if len(k.Aliases) > 0 {
			name += " (also " + "`" + strings.Join(k.Aliases, "`, `") + "`)"
		}
		dyn := "no"
		if k.Dynamic {
			dyn = "yes"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", name, def(k.Default), dyn, cell(k.Doc))
	}
	b.WriteString("\n### Topic settings\n\n")
	b.WriteString("| Name | Broker default from | Description |\n|---|---|---|\n")
	for _, k := range TopicKeys() {
		syn := ""
		if k.BrokerSynonym != "" {
			syn = "`" + k.BrokerSynonym + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", k.Name, syn, cell(k.Doc))
	}
	b.WriteString("\n### Kafka settings accepted and ignored\n\n")
	b.WriteString("These load with a warning, so that a Kafka `server.properties` works unchanged:\n\n")
	for _, k := range IgnoredKeys() {
		fmt.Fprintf(&b, "`%s` ", k)
	}
	b.WriteString("\n")
	return b.String()
}

// Package cli is the client side of the strait command: operator commands
// (topic, group, link, mirror, ...) that talk to a Strait cluster over the
// Kafka protocol (franz-go) and the REST API only, never to its storage.
//
// Every command takes --bootstrap-server (Kafka) and --url (REST), both
// defaulting to the local broker, and -o table|json|yaml. Tables print the
// columns named in the reference; json and yaml print the same rows as
// objects keyed by column name (or a command's own document). Errors are one
// line on stderr and a non-zero exit, printed by main; usage.go words them:
// a missing or extra argument names it with the usage line, a bad flag value
// names the flag and what is wrong with it, a command that only groups
// others fails without a subcommand, an unreachable cluster or REST API
// names its address and flag, and a timeout names --timeout.
package cli

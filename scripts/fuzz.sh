#!/usr/bin/env bash
# Runs every fuzz target in the repository for FUZZTIME each (default 20s).
# Targets are found by their declarations, so new ones are picked up without
# editing this script. Found failures land in the package's testdata/fuzz/.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
fuzztime="${FUZZTIME:-20s}"
go="${GO:-go}"

targets="$(grep -rE --include='*_test.go' --exclude-dir=node_modules --exclude-dir=.git \
	'^func Fuzz[A-Za-z0-9_]*\(' . || true)"
if [ -z "$targets" ]; then
	echo "fuzz: no fuzz targets"
	exit 0
fi

while IFS=: read -r file decl; do
	dir="$(dirname "$file")"
	name="$(sed -E 's/^func (Fuzz[A-Za-z0-9_]*)\(.*/\1/' <<<"$decl")"
	echo "fuzz: $dir $name ($fuzztime)"
	"$go" test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$dir"
done <<<"$targets"

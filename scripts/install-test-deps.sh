#!/usr/bin/env bash
# Installs the real Kafka clients that Strait's interop tests drive, when they
# are missing: kcat, confluent-kafka-python and kafka-python for the system
# Python (/usr/bin/python3), Node.js with npm, and KafkaJS (pinned by
# test/interop/js/package-lock.json).
#
# It is idempotent: when everything is present it installs nothing and prints
# nothing. Each thing it installs gets one line on stdout; a failed install
# stops the script with a non-zero status.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jsdir="$root/test/interop/js"
python=/usr/bin/python3

fail() {
	echo "install-test-deps: $*" >&2
	exit 1
}

# Root runs apt-get directly; anyone else needs sudo.
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		sudo_cmd=(sudo)
	else
		fail "not root and sudo is not available; install the Debian packages kcat python3-confluent-kafka python3-kafka nodejs npm yourself"
	fi
fi

has_python_module() {
	[ -x "$python" ] && "$python" -c "import $1" >/dev/null 2>&1
}

missing=()
command -v kcat >/dev/null 2>&1 || missing+=(kcat)
has_python_module confluent_kafka || missing+=(python3-confluent-kafka)
has_python_module kafka || missing+=(python3-kafka)
# Node.js may come from another distribution (which bundles npm); only ask
# Debian for what is absent so its packages do not fight an existing install.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ "${#missing[@]}" -gt 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	"${sudo_cmd[@]}" apt-get update -qq >/dev/null ||
		fail "apt-get update failed"
	"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
		fail "apt-get install ${missing[*]} failed"
	for pkg in "${missing[@]}"; do
		echo "installed $pkg (apt)"
	done
fi

# Check the result rather than trusting apt's exit status alone.
command -v kcat >/dev/null 2>&1 || fail "kcat is still missing"
has_python_module confluent_kafka || fail "$python cannot import confluent_kafka"
has_python_module kafka || fail "$python cannot import kafka"
command -v node >/dev/null 2>&1 || fail "node is still missing"
command -v npm >/dev/null 2>&1 || fail "npm is still missing"

# KafkaJS is installed exactly as the committed lock file says.
want_kafkajs="$(node -e 'console.log(require(process.argv[1]).packages["node_modules/kafkajs"].version)' "$jsdir/package-lock.json")" ||
	fail "cannot read the kafkajs version from $jsdir/package-lock.json"
have_kafkajs="$(node -e 'try { console.log(require(process.argv[1]).version) } catch (e) {}' "$jsdir/node_modules/kafkajs/package.json")"
if [ "$have_kafkajs" != "$want_kafkajs" ]; then
	(cd "$jsdir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) ||
		fail "npm ci in $jsdir failed"
	echo "installed kafkajs $want_kafkajs (npm)"
fi

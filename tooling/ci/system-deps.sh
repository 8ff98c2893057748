#!/usr/bin/env bash
# System packages some tests need, installed from Debian when missing. Idempotent and quiet; `.ci/run` calls it.
# Only root installs (apt-get); otherwise it says what is missing and leaves the machine alone.
set -euo pipefail

# "command package" pairs: the command a test runs, and the Debian package that ships it.
NEEDS=(
  "promtool prometheus" # apps/server: `promtool check metrics` on /metrics
)

missing=()
for need in "${NEEDS[@]}"; do
  read -r cmd pkg <<<"$need"
  command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "system-deps: missing ${missing[*]}; run as root (apt-get install -y ${missing[*]})" >&2
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "system-deps: installed ${missing[*]}"

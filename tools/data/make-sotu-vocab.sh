#!/usr/bin/env bash
# Rebuilds data/sotu-vocab/vocab.txt.gz: bert-base-uncased's WordPiece vocabulary (data/bert-vocab, Apache-2.0)
# cut to 4,096 tokens by how often the State of the Union addresses (data/sotu, public domain) use them.
# Rule (shared/Crate.Core/Data/Text/WordPieceVocabulary.cs): the five special tokens, every single-character
# token needed to spell the tokens any address uses, then the tokens most used by the addresses the bert task
# may pre-train on (the party task's 36 test addresses do not count) until 4,096; bert-base-uncased's order kept.
# The result depends only on data/bert-vocab and data/sotu; WordPieceVocabularyTests checks the shipped file.
# Usage: tools/data/make-sotu-vocab.sh [OUT_DIR] [SIZE]   (needs the .NET SDK)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/../../data/sotu-vocab}"
dotnet run -c Release --project "$here/DataBench" -- sotu-vocab "$out" ${2:+"$2"}

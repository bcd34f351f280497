#!/usr/bin/env bash
# Rebuilds data/fashion-mnist/: the class-balanced Fashion-MNIST subset shipped with the repository.
#
# Selection (deterministic, no randomness): walking each original file in its stored order, keep the
# first 1,200 images of every class from the training set and the first 200 of every class from the
# test set (t10k), preserving their relative order. Result: 12,000 training and 2,000 test images, as
# gzipped IDX files with the original names (gzip header without name or time, level 9).
#
# Source: Debian's dataset-fashion-mnist (MIT, Zalando SE): apt-get install -y dataset-fashion-mnist
# Usage: tools/data/make-fashion-mnist-subset.sh [SOURCE_DIR] [OUT_DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="${1:-/usr/share/datasets/fashion-mnist}"
out="${2:-$here/../../data/fashion-mnist}"
if [ ! -f "$src/train-images-idx3-ubyte.gz" ]; then
  echo "missing $src/train-images-idx3-ubyte.gz: apt-get install -y dataset-fashion-mnist" >&2
  exit 1
fi
mkdir -p "$out"
/usr/bin/python3 - "$src" "$out" <<'PY'
import gzip, struct, sys

src, out = sys.argv[1], sys.argv[2]

def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    rank = magic & 0xFF
    dims = struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank])
    return dims, data[4 + 4 * rank:]

def write_idx(path, dims, payload):
    header = struct.pack(">I", 0x0800 | len(dims)) + struct.pack(">" + "I" * len(dims), *dims)
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as f:
        f.write(header + payload)

for prefix, per_class in (("train", 1200), ("t10k", 200)):
    (n, h, w), pixels = read_idx(f"{src}/{prefix}-images-idx3-ubyte.gz")
    (n2,), labels = read_idx(f"{src}/{prefix}-labels-idx1-ubyte.gz")
    assert n == n2, (n, n2)
    taken, keep = [0] * 10, []
    for i, label in enumerate(labels):
        if taken[label] < per_class:
            taken[label] += 1
            keep.append(i)
    assert taken == [per_class] * 10, taken
    size = h * w
    write_idx(f"{out}/{prefix}-images-idx3-ubyte.gz", (len(keep), h, w), b"".join(pixels[i * size:(i + 1) * size] for i in keep))
    write_idx(f"{out}/{prefix}-labels-idx1-ubyte.gz", (len(keep),), bytes(labels[i] for i in keep))
    print(f"{prefix}: kept {len(keep)} of {n} ({per_class} per class); last source index {keep[-1]}")
PY
ls -l "$out"

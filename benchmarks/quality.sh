#!/usr/bin/env bash
# The README's quality table: the embedded tiny model and its ternary QAT twin under every
# scheme, scored on the held-out split against the fp model. Usage: benchmarks/quality.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-out/quality}
edgecpm=.venv/bin/edgecpm
mkdir -p "$out"
q() { name=$1; shift; $edgecpm quantize "$@" -o "$out/$name" --force > "$out/$name.log"; }
q int4-g32       tiny --scheme int4 --group-size 32
q int4-g128      tiny --scheme int4 --group-size 128
q int4-g128-gptq tiny --scheme int4 --group-size 128 --method gptq --skip-first 4
q int4-g32-emb8  tiny --scheme int4 --group-size 32 --embeddings int8
q ternary-ptq    tiny --scheme ternary --group-size 256
q ternary-qat    tiny-ternary --scheme ternary --group-size 256
q ternary-qat-emb8 tiny-ternary --scheme ternary --group-size 256 --embeddings int8
$edgecpm eval tiny "$out"/int4-g32 "$out"/int4-g128 "$out"/int4-g128-gptq "$out"/int4-g32-emb8 \
    "$out"/ternary-ptq tiny-ternary "$out"/ternary-qat "$out"/ternary-qat-emb8

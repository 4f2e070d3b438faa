#!/usr/bin/env bash
# Lays out every Swift file with `swift format` and the committed .swift-format (line length 120):
#   scripts/format.sh          rewrites the files in place
#   scripts/format.sh --check  changes nothing; fails, listing the files, when one is not laid out
set -euo pipefail
cd "$(dirname "$0")/.."
paths=(Package.swift Sources Tests Benchmarks Examples Fuzz)
if [ "${1:-}" = "--check" ]; then
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
  cp -r "${paths[@]}" .swift-format "$scratch/"
  (cd "$scratch" && swift format format --in-place --recursive --parallel "${paths[@]}")
  unformatted=()
  while IFS= read -r file; do
    cmp -s "$file" "$scratch/$file" || unformatted+=("$file")
  done < <(find "${paths[@]}" -name '*.swift' -type f)
  if [ ${#unformatted[@]} -gt 0 ]; then
    echo "not laid out by swift format (run scripts/format.sh): ${unformatted[*]}" >&2
    exit 1
  fi
  echo "swift format: every file is laid out"
else
  swift format format --in-place --recursive --parallel "${paths[@]}"
fi

#!/usr/bin/env bash
# Where the fuzz targets' coverage lies: runs each committed corpus once
# through a build that can name the code it reaches, and sums the covered
# edges by origin (triglot's own code, split into hand-written functions and
# those serde's derive generated; each dependency; the standard library).
#
#   bash scripts/fuzz-coverage.sh                  every target, this corpus
#   bash scripts/fuzz-coverage.sh REV [target...]  also the corpus at git
#                                                  revision REV, and what
#                                                  grew in triglot's code
#
# libFuzzer names covered functions only through a sanitizer's symbolizer,
# so this builds the targets with AddressSanitizer (a nightly flag, taken
# with RUSTC_BOOTSTRAP=1 on the stable toolchain) into target-cov/, apart
# from fuzz.sh's build; llvm-symbolizer comes from Debian's llvm package.
# A function's edges count as triglot's when its source is in this
# repository; "serde-derived" are the Deserialize impls the derive wrote.
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:-}
targets=(contract flows url thresholds)
[ $# -gt 1 ] && targets=("${@:2}")
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
if ! command -v llvm-symbolizer >/dev/null; then
    apt-get update -qq && apt-get install -y -qq llvm >/dev/null
fi
RUSTC_BOOTSTRAP=1 cargo fuzz build -s address -a --target-dir fuzz/target-cov >/dev/null 2>&1
bin=fuzz/target-cov/x86_64-unknown-linux-gnu/release
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cover() { # target corpus-dir output
    # A directory, not its files: given files, libFuzzer runs each alone
    # and prints no coverage.
    "$bin/$1" -runs=0 -rss_limit_mb=4096 -print_coverage=1 "$2" >"$3" 2>&1 || true
}
for t in "${targets[@]}"; do
    cover "$t" "fuzz/corpus/$t" "$work/$t.now"
    if [ -n "$rev" ]; then
        mkdir -p "$work/$t.rev"
        git archive "$rev" "fuzz/corpus/$t" | tar -x -C "$work/$t.rev"
        cover "$t" "$work/$t.rev/fuzz/corpus/$t" "$work/$t.then"
    fi
    python3 - "$t" "$PWD" "$work/$t.now" "$work/$t.then" "$rev" <<'PY'
import collections, os, re, sys
target, root, now, then, rev = sys.argv[1:]
line = re.compile(r"(UN)?COVERED_FUNC: hits: \d+ edges: (\d+)/(\d+) (.*) (\S+):\d+$")
def load(path):
    funcs = {}
    if not os.path.exists(path):
        return funcs
    for l in open(path, errors="replace"):
        m = line.match(l.strip())
        if m:
            funcs[(m.group(4), m.group(5))] = (int(m.group(2)), int(m.group(3)))
    return funcs
def origin(name, path):
    if path.startswith(root + "/"):
        derived = "serde_core::de::Deserialize" in name or "serde::de::Deserialize" in name
        return "triglot, serde-derived" if derived else "triglot, hand-written"
    if "/registry/src/" in path:
        return path.split("/registry/src/")[1].split("/")[1]
    return "standard library" if path.startswith("/rustc/") else "other"
def sums(funcs):
    total = collections.defaultdict(lambda: [0, 0])
    for (name, path), (hit, all_) in funcs.items():
        total[origin(name, path)][0] += hit
        total[origin(name, path)][1] += all_
    return total
a, b = load(then), load(now)
sa, sb = sums(a), sums(b)
print(f"## {target}" + (f": corpus at {rev} -> now" if rev else ""))
for k in sorted(sb, key=lambda k: (not k.startswith("triglot"), -sb[k][0])):
    was = f"{sa[k][0]:>6} -> " if rev else ""
    print(f"  {k:40} {was}{sb[k][0]:>6} of {sb[k][1]:>6} edges")
if rev:
    for key in sorted(set(a) | set(b), key=lambda k: k[1]):
        x, y = a.get(key, (0, 0))[0], b.get(key, (0, 0))[0]
        if x != y and key[1].startswith(root + "/"):
            print(f"    {x:>4} -> {y:>4}  {key[1][len(root) + 1:]}  {key[0][:100]}")
PY
done

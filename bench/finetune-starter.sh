#!/usr/bin/env bash
# Fine-tunes the starter model on N STAR train dialogues through Parley's own CLI (ingest, dataset,
# train, eval compare), once without DP and once with DP-SGD at ε = 8, and prints each comparison
# against the starter: validation loss and perplexity, R@1/MRR of next-response ranking, generation
# quality and side-by-side replies, plus training tokens/s and wall time.
#
#   bash bench/finetune-starter.sh [N dialogues, default 300] [epochs, default 1]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-300}
EPOCHS=${2:-1}
export PARLEY_DATA_DIR=${PARLEY_DATA_DIR:-$(mktemp -d /tmp/parley-finetune-XXXX)}
export LOG_LEVEL=warn PARLEY_DEMO=false
parley() { node server/cli/parley.mjs "$@"; }
out="$PARLEY_DATA_DIR/report"
mkdir -p "$out"
echo "data dir: $PARLEY_DATA_DIR" >&2

node -e '
const { createReadStream, writeFileSync } = require("node:fs");
const { createBrotliDecompress } = require("node:zlib");
const { createInterface } = require("node:readline");
(async () => {
  const lines = [];
  const rl = createInterface({ input: createReadStream("seed/data/star.train.jsonl.br").pipe(createBrotliDecompress()) });
  for await (const line of rl) { if (line.trim()) lines.push(line); if (lines.length >= Number(process.argv[1])) break; }
  rl.close();
  writeFileSync(process.argv[2], lines.join("\n") + "\n");
})();' "$N" "$out/star-train.jsonl"

parley ingest --file "$out/star-train.jsonl" --json > "$out/ingest.json"
source=file:star-train.jsonl # the source a file import registers
parley dataset build --source "$source" --json > "$out/dataset.json"
dataset=$(node -e 'const d = JSON.parse(require("fs").readFileSync(process.argv[1])); console.log(d.id ?? d._id)' "$out/dataset.json")
starter="$PARLEY_DATA_DIR/models/starter"

run() { # label, extra train flags...
  local label=$1; shift
  local started=$SECONDS
  parley train --dataset "$dataset" --epochs "$EPOCHS" --lr 2e-3 --batch-size 8 --lora-rank 8 --json "$@" > "$out/train-$label.json"
  local version
  version=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).version)' "$out/train-$label.json")
  echo "$label: trained $version in $((SECONDS - started)) s" >&2
  parley eval compare "$version" --against "$starter" --ranking-cases 100 --samples 30 --examples 3 > "$out/compare-$label.json"
}
run lora
run dp --dp --target-epsilon 8 --delta 1e-5

node -e '
const fs = require("fs"); const dir = process.argv[1];
for (const label of ["lora", "dp"]) {
  const train = JSON.parse(fs.readFileSync(`${dir}/train-${label}.json`));
  const report = JSON.parse(fs.readFileSync(`${dir}/compare-${label}.json`));
  console.log(`\n== ${label} ==`);
  console.log(JSON.stringify({ train, metrics: report.metrics ?? report.rows ?? report }, null, 1).slice(0, 6000));
}' "$out"

#!/usr/bin/env bash
# The DBP15K entity-alignment measurements of README "Entity alignment": both models, each modality set,
# zh_en and ja_en, trained and evaluated through the CLI. Logs, manifests and the leaderboard go under
# work/alignment-runs/ (not versioned). Usage: bench/alignment-dbp15k.sh [EPOCHS] [PAIRS...]
# Environment: MODELS (default "mclea meaformer"), MODSETS (default "structure structure,relation
# structure,relation,name"), MMSPARK (the launcher; default spark-jobs/bin/mmspark; a copy of the built jars
# lets a long run go on while the project is rebuilt).
set -uo pipefail
cd "$(dirname "$0")/.."
EPOCHS="${1:-20}"; shift || true
PAIRS=("${@:-zh_en ja_en}")
OUT=work/alignment-runs
MMSPARK="${MMSPARK:-spark-jobs/bin/mmspark}"
mkdir -p "$OUT"
for pair in ${PAIRS[@]}; do
  for model in ${MODELS:-mclea meaformer}; do
    for mods in ${MODSETS:-structure structure,relation structure,relation,name}; do
      tag="$pair-$model-${mods//,/+}"
      extra=()
      # MEAformer's batch of 3500 would give one update per worker and epoch at this epoch budget (README)
      [[ $model == meaformer ]] && extra=(--set train.batch_size=512)
      echo "$(date +%T) $tag: training ($(uptime | sed 's/.*load average: //'))"
      "$MMSPARK" train-alignment --config conf/dbp15k-$pair.conf --overwrite \
        --set train.model.name=$model --set "train.model.modalities=[$mods]" --set train.epochs=$EPOCHS \
        --set train.output=$OUT/$tag "${extra[@]}" --manifest $OUT/$tag.train.json > $OUT/$tag.train.log 2>&1
      echo "$(date +%T) $tag: evaluating ($(uptime | sed 's/.*load average: //'))"
      "$MMSPARK" evaluate-alignment --config conf/dbp15k-$pair.conf --set evaluate.model=$OUT/$tag \
        --set leaderboard.warehouse=$OUT/warehouse --manifest $OUT/$tag.eval.json > $OUT/$tag.eval.log 2>&1
      echo "$(date +%T) $tag: done, exit codes $(grep -h exit_code $OUT/$tag.train.json $OUT/$tag.eval.json | tr -d ' \n')"
    done
  done
done

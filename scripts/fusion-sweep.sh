#!/usr/bin/env bash
# Trains the multitask model once per fusion operator on an existing feature table and scores its trimodal
# head on the test split (dev.mmspark.training.bench.FusionSweepBench), one JVM per operator, in sequence.
#
#   scripts/fusion-sweep.sh TABLE OUTDIR "fusion1;fusion2;..." [train.key=value ...]
#
# Each fusion entry is a name or name:HOCON-object-body, e.g. 'mutan:mm_dim=200,rank=5'; all run in one JVM
# and Spark session. Results: OUTDIR/<name>.json (see FusionSweepBench), log in OUTDIR/sweep.log. Needs the compiled training module:
#   mvn -B -o -q -pl training -am test-compile
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TABLE="$1"; OUT="$2"; FUSIONS="$3"; shift 3
mkdir -p "$OUT"
CPFILE="$ROOT/training/target/test-classpath.txt"
if [[ ! -f "$CPFILE" ]]; then
  (cd "$ROOT" && mvn -B -o -q -pl training dependency:build-classpath -Dmdep.includeScope=test \
     -Dmdep.outputFile="$CPFILE")
fi
# a snapshot of the compiled classes, so that rebuilding the project during a long sweep changes nothing
SNAP="$OUT/classes"
rm -rf "$SNAP" && mkdir -p "$SNAP"
cp -r "$ROOT/training/target/classes" "$SNAP/training" && cp -r "$ROOT/training/target/test-classes" "$SNAP/training-test"
cp -r "$ROOT/feature-extraction/target/classes" "$SNAP/features"
CP="$SNAP/training-test:$SNAP/training:$SNAP/features:$(cat "$CPFILE" | sed "s#$ROOT/feature-extraction/target/classes##")"
OPENS=(--add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED
  --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED
  --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED
  --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens=java.base/sun.nio.cs=ALL-UNNAMED --add-opens=java.base/sun.security.action=ALL-UNNAMED
  --add-opens=java.base/sun.util.calendar=ALL-UNNAMED)
echo "$(date +%T) $FUSIONS" >&2
java "${OPENS[@]}" -Xmx4g -Dlog4j2.configurationFile="$ROOT/conf/log4j2.properties" -cp "$CP" \
  dev.mmspark.training.bench.FusionSweepBench "$TABLE" "$OUT" "$FUSIONS" "$@" > "$OUT/sweep.log" 2>&1
echo "$(date +%T) done" >&2

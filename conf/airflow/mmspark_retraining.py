"""Scheduled retraining of the mmspark leaderboard (Apache Airflow 2.6+ with the apache-spark provider).

extract -> sweep -> report -> promote -> manifest

* extract: features for the (new) data, written atomically (--overwrite replaces the previous table).
* sweep:   trains and evaluates every run of the sweep that is not in the leaderboard yet (a retry of a
           failed attempt redoes only the missing runs: run ids are hashes of config, table content, code
           version and seed); exit 6 when some runs failed (recorded in the table).
* report:  refreshes the summary table (mean, sd, 95% CI, rank, paired t-test) and the HTML report.
* promote: the best setting replaces the champion only when significantly better (paired t-test over
           seeds); exit 5 means "not promoted", which marks the task skipped instead of failed.
* manifest: gathers the JSON manifest every job wrote (run ids, row counts, table snapshots, exit codes)
           into one file for the DAG run; nothing here parses logs.

Settings (Airflow Variables or environment variables of the same name):
  MMSPARK_HOME       project checkout with the application jar (default: two levels above this file)
  MMSPARK_CONF       the config file with dataset/extract/sweep/report/promote/leaderboard sections
  MMSPARK_MANIFESTS  where manifests go (default: $MMSPARK_HOME/work/airflow/manifests)
  MMSPARK_SUBMIT     "spark-submit" (default: the cluster's) or "launcher" (spark-jobs/bin/mmspark, local Spark)
"""
import glob
import json
import os
import shlex
from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.operators.python import PythonOperator
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

try:
    from airflow.models import Variable

    def setting(name, default):
        return Variable.get(name, default_var=os.environ.get(name, default))
except ImportError:  # pragma: no cover - Variable exists in every Airflow 2
    def setting(name, default):
        return os.environ.get(name, default)

HERE = os.path.dirname(os.path.abspath(__file__))
HOME = setting("MMSPARK_HOME", os.path.normpath(os.path.join(HERE, "..", "..")))
CONF = setting("MMSPARK_CONF", os.path.join(HOME, "conf", "sweep-synthetic.conf"))
MANIFESTS = setting("MMSPARK_MANIFESTS", os.path.join(HOME, "work", "airflow", "manifests"))
SUBMIT = setting("MMSPARK_SUBMIT", "spark-submit")
MAIN_CLASS = "dev.mmspark.jobs.Main"
NOT_PROMOTED = 5  # README "Exit codes"

# The jobs in order: task id -> mmspark arguments. The test runs exactly these through the launcher.
JOBS = [
    ("extract", ["extract", "--config", CONF, "--overwrite"]),
    ("sweep", ["sweep", "--config", CONF]),
    ("report", ["report", "--config", CONF]),
    ("promote", ["promote", "--config", CONF]),
]


def job_args(task_id):
    """The mmspark arguments of a task, with its manifest file."""
    args = dict(JOBS)[task_id]
    return args + ["--manifest", os.path.join(MANIFESTS, "{{ run_id }}", task_id + ".json")]


def app_jar():
    jars = sorted(glob.glob(os.path.join(HOME, "spark-jobs", "target", "mmspark-spark-jobs-*-app.jar")))
    return jars[-1] if jars else os.path.join(HOME, "spark-jobs", "target", "mmspark-spark-jobs-app.jar")


def launcher_command(task_id):
    """The shell command of a task run through the project's launcher (local Spark)."""
    return " ".join(shlex.quote(a) for a in [os.path.join(HOME, "spark-jobs", "bin", "mmspark")] + job_args(task_id))


def spark_task(task_id, **kwargs):
    if SUBMIT == "launcher":
        return BashOperator(task_id=task_id, bash_command=launcher_command(task_id), cwd=HOME, **kwargs)
    return SparkSubmitOperator(
        task_id=task_id,
        application=app_jar(),
        java_class=MAIN_CLASS,
        application_args=job_args(task_id),
        conf={"spark.speculation": "false"},
        **kwargs,
    )


def write_manifest(run_dir, **_):
    """One manifest for the DAG run from the jobs' manifests (exit codes, run ids, rows, snapshots)."""
    out = {"jobs": {}}
    for task_id, _ in JOBS:
        path = os.path.join(run_dir, task_id + ".json")
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                out["jobs"][task_id] = json.load(f)
    promote = out["jobs"].get("promote", {})
    out["promoted"] = promote.get("exit_code") == 0
    out["written_at"] = datetime.utcnow().isoformat() + "Z"
    tmp = os.path.join(run_dir, ".dag_manifest.json.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=2)
    os.replace(tmp, os.path.join(run_dir, "dag_manifest.json"))
    return out


with DAG(
    dag_id="mmspark_retraining",
    description="extract -> sweep (train + evaluate) -> report -> promote when significantly better -> manifest",
    schedule="@weekly",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=5)},
    tags=["mmspark"],
) as dag:
    extract = spark_task("extract")
    sweep = spark_task("sweep")
    report = spark_task("report")
    # exit code 5 (not promoted) is an outcome, not a failure: BashOperator marks it skipped
    promote = BashOperator(
        task_id="promote",
        bash_command=launcher_command("promote") if SUBMIT == "launcher" else " ".join(
            shlex.quote(a) for a in [SUBMIT, "--class", MAIN_CLASS, "--conf", "spark.speculation=false", app_jar()]
            + job_args("promote")),
        cwd=HOME,
        skip_on_exit_code=NOT_PROMOTED,
    )
    manifest = PythonOperator(
        task_id="manifest",
        python_callable=write_manifest,
        op_kwargs={"run_dir": os.path.join(MANIFESTS, "{{ run_id }}")},
        trigger_rule="none_failed",
    )
    extract >> sweep >> report >> promote >> manifest

"""Checks the retraining DAG without an Airflow installation (none is packaged for this machine's Debian,
and PyPI is not reachable here): minimal stand-ins of the four Airflow classes the DAG uses record what
the DAG builds. With a real Airflow installed, the real classes are used instead.

    python3 conf/airflow/test_mmspark_retraining.py                    # structure and commands
    MMSPARK_DAG_RUN=1 python3 conf/airflow/test_mmspark_retraining.py  # also runs the tasks' exact commands
                                                                       # through spark-jobs/bin/mmspark on a
                                                                       # tiny synthetic set (a few minutes)
"""
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import types
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
SMOKE_CONF = os.path.join(HERE, "retraining-smoke.conf")
SMOKE_WORK = os.path.join(ROOT, "work", "airflow-smoke")


def install_stubs():
    """Minimal stand-ins of DAG, BashOperator, PythonOperator, SparkSubmitOperator, Variable."""
    try:
        import airflow  # noqa: F401
        return False
    except ImportError:
        pass

    class DAG:
        current = None

        def __init__(self, dag_id, **kwargs):
            self.dag_id, self.kwargs, self.tasks = dag_id, kwargs, []

        def __enter__(self):
            DAG.current = self
            return self

        def __exit__(self, *exc):
            DAG.current = None

    class BaseOperator:
        def __init__(self, task_id, trigger_rule="all_success", **kwargs):
            self.task_id, self.trigger_rule, self.kwargs = task_id, trigger_rule, kwargs
            self.upstream, self.downstream = [], []
            DAG.current.tasks.append(self)

        def __rshift__(self, other):
            self.downstream.append(other)
            other.upstream.append(self)
            return other

    class BashOperator(BaseOperator):
        pass

    class PythonOperator(BaseOperator):
        pass

    class SparkSubmitOperator(BaseOperator):
        pass

    class Variable:
        @staticmethod
        def get(name, default_var=None):
            return default_var

    def module(name, **attrs):
        m = types.ModuleType(name)
        m.__dict__.update(attrs)
        sys.modules[name] = m
        return m

    module("airflow", DAG=DAG)
    module("airflow.models", Variable=Variable)
    module("airflow.operators")
    module("airflow.operators.bash", BashOperator=BashOperator)
    module("airflow.operators.python", PythonOperator=PythonOperator)
    module("airflow.providers")
    module("airflow.providers.apache")
    module("airflow.providers.apache.spark")
    module("airflow.providers.apache.spark.operators")
    module("airflow.providers.apache.spark.operators.spark_submit", SparkSubmitOperator=SparkSubmitOperator)
    return True


def load_dag(env):
    old = dict(os.environ)
    os.environ.update(env)
    try:
        spec = importlib.util.spec_from_file_location("mmspark_retraining", os.path.join(HERE, "mmspark_retraining.py"))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod
    finally:
        os.environ.clear()
        os.environ.update(old)


STUBS = install_stubs()


@unittest.skipUnless(STUBS, "a real Airflow is installed: use `airflow dags test` instead")
class DagStructureTest(unittest.TestCase):
    def setUp(self):
        self.mod = load_dag({"MMSPARK_CONF": SMOKE_CONF, "MMSPARK_SUBMIT": "spark-submit"})
        self.tasks = {t.task_id: t for t in self.mod.dag.tasks}

    def test_chain(self):
        self.assertEqual("mmspark_retraining", self.mod.dag.dag_id)
        self.assertEqual(["extract", "sweep", "report", "promote", "manifest"], [t.task_id for t in self.mod.dag.tasks])
        for a, b in [("extract", "sweep"), ("sweep", "report"), ("report", "promote"), ("promote", "manifest")]:
            self.assertEqual([self.tasks[b]], self.tasks[a].downstream)
        self.assertEqual("none_failed", self.tasks["manifest"].trigger_rule)
        self.assertEqual(5, self.tasks["promote"].kwargs["skip_on_exit_code"])

    def test_spark_submit_tasks(self):
        for task_id in ["extract", "sweep", "report"]:
            t = self.tasks[task_id]
            self.assertEqual(type(t).__name__, "SparkSubmitOperator")
            self.assertEqual("dev.mmspark.jobs.Main", t.kwargs["java_class"])
            args = t.kwargs["application_args"]
            self.assertEqual(task_id, args[0])
            self.assertEqual(SMOKE_CONF, args[args.index("--config") + 1])
            self.assertTrue(args[args.index("--manifest") + 1].endswith(task_id + ".json"))
            self.assertEqual("false", t.kwargs["conf"]["spark.speculation"])
        self.assertIn(" promote --config ", self.tasks["promote"].kwargs["bash_command"])

    def test_commands_are_known_to_the_cli(self):
        main = os.path.join(ROOT, "spark-jobs", "src", "main", "java", "dev", "mmspark", "jobs", "Commands.java")
        with open(main, encoding="utf-8") as f:
            source = f.read()
        for _, args in self.mod.JOBS:
            self.assertIn('@Command(name = "%s"' % args[0], source)
        self.assertTrue(os.path.isfile(SMOKE_CONF))

    def test_manifest_gathers_job_manifests(self):
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            for task_id, code in [("extract", 0), ("sweep", 0), ("report", 0), ("promote", 5)]:
                with open(os.path.join(d, task_id + ".json"), "w") as f:
                    json.dump({"exit_code": code, "job": task_id}, f)
            out = self.mod.write_manifest(d)
            self.assertFalse(out["promoted"])
            with open(os.path.join(d, "dag_manifest.json")) as f:
                self.assertEqual(["extract", "sweep", "report", "promote"], list(json.load(f)["jobs"]))


@unittest.skipUnless(os.environ.get("MMSPARK_DAG_RUN") == "1", "set MMSPARK_DAG_RUN=1 to run the tasks' commands")
class DagRunTest(unittest.TestCase):
    """Runs the commands the tasks would run, in order, through the launcher on the tiny synthetic set."""

    def test_run(self):
        shutil.rmtree(SMOKE_WORK, ignore_errors=True)
        manifests = os.path.join(SMOKE_WORK, "manifests")
        mod = load_dag({"MMSPARK_CONF": SMOKE_CONF, "MMSPARK_SUBMIT": "launcher", "MMSPARK_MANIFESTS": manifests,
                        "MMSPARK_HOME": ROOT})
        launcher = os.path.join(ROOT, "spark-jobs", "bin", "mmspark")
        # the new data arrives from outside the DAG: here, the synthetic generator
        subprocess.run([launcher, "generate", "--config", SMOKE_CONF, "--overwrite"], check=True, cwd=ROOT)
        run_dir = os.path.join(manifests, "test")
        for t in mod.dag.tasks:
            if t.task_id == "manifest":
                continue
            cmd = t.kwargs["bash_command"].replace("{{ run_id }}", "test")
            rc = subprocess.run(cmd, shell=True, cwd=t.kwargs["cwd"]).returncode
            self.assertIn(rc, (0, 5) if t.task_id == "promote" else (0,), "%s exited %d" % (t.task_id, rc))
        out = mod.write_manifest(run_dir)
        sweep = out["jobs"]["sweep"]
        self.assertEqual(0, sweep["exit_code"])
        self.assertEqual(2, sweep["done"])
        self.assertTrue(out["promoted"], out["jobs"]["promote"])  # first champion of the dataset
        # a retry of the sweep task does nothing: every run is committed
        cmd = mod.dag.tasks[1].kwargs["bash_command"].replace("{{ run_id }}", "retry")
        self.assertEqual(0, subprocess.run(cmd, shell=True, cwd=ROOT).returncode)
        with open(os.path.join(manifests, "retry", "sweep.json")) as f:
            retry = json.load(f)
        self.assertEqual((0, 2, 0), (retry["done"], retry["skipped"], retry["rows_appended"]))


if __name__ == "__main__":
    unittest.main(verbosity=2)

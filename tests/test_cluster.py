"""The cluster mode: a local Dask cluster of two worker processes on loopback gives exactly
the single-machine result files.  Skipped when the ``cluster`` extra is not installed."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
import pytest
from test_partitioned_support import AS_OF, PERIOD, assert_same_results, build_store

from wfhaudit import cluster
from wfhaudit.audit.run import run_audit
from wfhaudit.policy import load_policy

needs_dask = pytest.mark.skipif(
    not cluster.available(),
    reason="Dask distributed is not installed (pip install 'wfhaudit[cluster]')",
)


@needs_dask
@pytest.mark.slow
def test_local_cluster_of_two_workers_equals_single_machine(tmp_path: Path) -> None:
    store = build_store(tmp_path / "store")
    policy = load_policy()
    run_audit(store, PERIOD, policy, as_of=AS_OF, out_dir=tmp_path / "single", partition_days=0)
    with cluster.local_cluster(n_workers=2) as executor:
        assert executor.workers == 2
        result = run_audit(
            store, PERIOD, policy, as_of=AS_OF, out_dir=tmp_path / "cluster",
            executor=executor, work_dir=tmp_path / "work",
        )
    execution = result.meta["execution"]
    assert execution["executor"] == "DaskExecutor"
    assert execution["chosen_by"] == "--cluster" and execution["days_per_chunk"] == 1
    assert execution["worker_processes"] == 2  # both workers audited chunks
    assert_same_results(tmp_path / "single", tmp_path / "cluster")
    violations = pl.read_parquet(tmp_path / "cluster" / "violations.parquet")
    assert violations.filter(pl.col("rule") == "DUPLICATE_OUTPUT").height > 0
    assert os.listdir(tmp_path / "work") == []  # temporary files removed


def test_without_dask_the_cluster_mode_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_distributed(name: str, *args: object, **kwargs: object) -> object:
        if name == "distributed":
            raise ImportError("No module named 'distributed'")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_distributed)
    assert not cluster.available()
    from wfhaudit.errors import UsageError

    with (
        pytest.raises(UsageError, match=r"pip install 'wfhaudit\[cluster\]'"),
        cluster.local_cluster(2),
    ):
        pass

"""Run the audit's chunks on a Dask distributed cluster (optional extra ``cluster``).

``pip install 'wfhaudit[cluster]'`` adds Dask distributed.  The chunks of the
audit pipeline (``wfhaudit.audit.partitioned.audit_chunk``) become Dask tasks;
the driver pins the store, runs the period step and publishes, so
the result files equal those of a single-machine run.

Every worker must see the work directory (``work_dir`` or
``$WFHAUDIT_WORK_DIR``: a shared filesystem on a real cluster; any local
directory on a local cluster) and the store, and run the same wfhaudit and
Polars versions as the driver.

    from wfhaudit.cluster import local_cluster
    from wfhaudit.audit.run import run_audit

    with local_cluster(n_workers=2) as executor:
        run_audit(store, period, policy, out_dir=out, executor=executor)

``connect("tcp://scheduler:8786")`` uses a running cluster instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from wfhaudit.errors import UsageError

T = TypeVar("T")
R = TypeVar("R")

INSTALL_HINT = "install the optional extra with: pip install 'wfhaudit[cluster]'"


def _distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise UsageError(f"the cluster mode needs Dask distributed, which is not installed; "
                         f"{INSTALL_HINT}.") from exc
    return distributed


def available() -> bool:
    """True when the ``cluster`` extra (Dask distributed) is installed."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


class DaskExecutor:
    """Maps partitions onto the workers of a Dask ``Client`` (one task per partition)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def map(self, func: Callable[[T], R], items: Sequence[T]) -> list[R]:
        if not items:
            return []
        futures = self.client.map(func, list(items), pure=False)
        return list(self.client.gather(futures))

    @property
    def workers(self) -> int:
        return len(self.client.scheduler_info(n_workers=-1).get("workers", {}))


@contextmanager
def local_cluster(
    n_workers: int = 2,
    *,
    memory_limit: str | int | None = "auto",
    host: str = "127.0.0.1",
) -> Iterator[DaskExecutor]:
    """A Dask cluster of ``n_workers`` processes (one thread each) on this machine's loopback.

    Scripts that use it must guard their entry point with ``if __name__ == "__main__":``
    (worker processes are spawned and re-import the main module).
    """
    distributed = _distributed()
    cluster = distributed.LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        host=host,
        dashboard_address=None,
        memory_limit=memory_limit,
    )
    try:
        with distributed.Client(cluster) as client:
            client.wait_for_workers(n_workers)
            yield DaskExecutor(client)
    finally:
        cluster.close()


@contextmanager
def connect(address: str) -> Iterator[DaskExecutor]:
    """An executor on a running Dask scheduler, e.g. ``tcp://10.0.0.5:8786``."""
    distributed = _distributed()
    try:
        client = distributed.Client(address, timeout="30s")
    except OSError as exc:
        raise UsageError(
            f"cannot reach the Dask scheduler at {address}: {exc}; start it with "
            "'dask scheduler' and its workers with 'dask worker ADDRESS', or check the address."
        ) from exc
    try:
        yield DaskExecutor(client)
    finally:
        client.close()

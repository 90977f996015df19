"""Grading jobs on Dask: a ``LocalCluster`` of N processes, or an existing cluster's scheduler.

The only module that imports Dask. ``connect("local:N" | "tcp://HOST:PORT")`` gives a client
(a scheduler is probed first, within a bounded time, so that one that cannot be reached, or a
port where something else answers, is a clear ``SchedulerUnreachable`` instead of a hang).
``dask_runner(client)`` is a runner for ``prettynn.course.record.grade_as_jobs``: the course
bundle is sent to the workers once, each submission travels as bytes in its own task, and each
result is handed back as soon as it arrives and then released, so a worker that dies loses
only the jobs it was running: Dask runs them again elsewhere, and every submission comes back
exactly once. Dask counts a worker's death against every job it held, so a job that keeps
killing its workers could use up a neighbour's retries too: a job whose workers died under it on
every retry is run once more with no other job of the batch on the cluster, and only one that
kills its worker there too ends as that student's failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import re
import sys
import uuid
from collections.abc import Iterator

from . import gradejob
from .gradejob import CourseBundle, JobResult, Submission, grade_submission

PROBE_SECONDS = 10.0
LOCAL = re.compile(r"local:(\d+)")


class SchedulerUnreachable(Exception):
    """No Dask scheduler answered at the address given."""


async def _listening(address: str) -> None:
    """Open and close a plain TCP connection to ``address`` (``OSError`` when nothing listens)."""
    from distributed.comm.addressing import parse_address, parse_host_port

    host, port = parse_host_port(parse_address(address)[1])
    _, writer = await asyncio.open_connection(host, port)
    writer.close()


async def _identity(address: str, seconds: float):
    """What the Dask peer at ``address`` says it is."""
    from distributed.comm import connect

    comm = await connect(address, timeout=seconds)
    try:
        await comm.write({"op": "identity", "reply": True})
        return await comm.read()
    finally:
        await comm.close()


def _within(seconds: float, step):
    """Run the coroutine function ``step`` in a new event loop, for at most ``seconds`` (the
    coroutine is made inside the loop and the time limit, so none is left unawaited when either fails)."""
    async def bounded():
        async with asyncio.timeout(seconds):
            return await step()

    return asyncio.run(bounded())


def probe(address: str, seconds: float = PROBE_SECONDS) -> None:
    """Ask the scheduler at ``address`` who it is, within ``seconds`` for each step, or raise
    ``SchedulerUnreachable`` saying what happened (Dask's own client waits without bound on a port
    that accepts and never answers, and misreads another protocol's reply)."""
    if not isinstance(address, str):
        raise TypeError(f"a scheduler's address is a string like tcp://HOST:8786, not {type(address).__name__}")
    if not isinstance(seconds, (int, float)) or not 0 < seconds < math.inf:
        raise ValueError(f"the probe's time limit must be a positive number of seconds, not {seconds!r}")
    try:
        _within(seconds, lambda: _listening(address))
    except (asyncio.TimeoutError, OSError, ValueError) as error:
        raise SchedulerUnreachable(f"nothing answered at {address} within {seconds:g} s "
                                   f"({type(error).__name__}: {error}); is the scheduler running, and is "
                                   "the address right (tcp://HOST:8786)?") from error
    try:
        answer = _within(seconds, lambda: _identity(address, seconds))
    except Exception as error:  # noqa: BLE001 (another protocol's reply makes Dask fail in odd ways)
        raise SchedulerUnreachable(f"something listens at {address}, but it did not answer as a Dask scheduler "
                                   f"within {seconds:g} s ({type(error).__name__})") from error
    if not isinstance(answer, dict) or answer.get("type") != "Scheduler":
        kind = answer.get("type") if isinstance(answer, dict) else type(answer).__name__
        raise SchedulerUnreachable(f"{address} answered, but not as a Dask scheduler (it is a {kind})")


def local_workers(target: str) -> int | None:
    """N of ``local:N`` (at least 1), None when ``target`` is a scheduler's address."""
    match = LOCAL.fullmatch(target)
    if match is None:
        return None
    if int(match.group(1)) < 1:
        raise ValueError(f"{target}: a local cluster needs at least one worker")
    return int(match.group(1))


@contextlib.contextmanager
def connect(target: str, seconds: float | None = None) -> Iterator:
    """A Dask client of ``local:N`` (a cluster of N one-thread worker processes, started here and
    closed after) or of the scheduler at ``target``, probed for ``seconds`` (``PROBE_SECONDS``)."""
    from distributed import Client, LocalCluster

    seconds = PROBE_SECONDS if seconds is None else seconds
    workers = local_workers(target)
    if workers is None:
        probe(target, seconds)
        with Client(target, timeout=f"{seconds}s") as client:
            warm_up(client)
            yield client
        return
    # no dashboard; the scheduler's HTTP server (health checks) on a free local port, not on 8787,
    # which a second batch running at once would find taken (and warn)
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                      scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}) as cluster:
        with Client(cluster) as client:
            warm_up(client)
            yield client


def warm_up(client) -> None:
    """Have every worker import what grading needs while the coordinator packs the course (a task
    each, left to run: a worker's first job would otherwise pay for it); say so when the cluster has
    no worker yet (the jobs wait for one, as when a batch system has not started them)."""
    from distributed import fire_and_forget

    workers = client.scheduler_info()["workers"]
    if not workers:
        print(f"prettynn-course grade: the scheduler at {client.scheduler.address} has no worker yet; "
              "the jobs wait for workers to join", file=sys.stderr)
    for index, address in enumerate(workers):
        fire_and_forget(client.submit(gradejob.warm_up, workers=[address], pure=False,
                                      key=f"warm-up-{index}-{uuid.uuid4().hex}"))


def failure(submission: Submission, error: BaseException) -> JobResult:
    """The result of a job that raised or whose workers died under it."""
    from distributed import KilledWorker

    if isinstance(error, KilledWorker):
        problem = "its job ended the worker process that ran it, again on each retry and when run alone"
    else:
        problem = f"its job failed on the worker: {type(error).__name__}: {error}"
    return JobResult(submission.student, False, problem=problem, log=f"prettynn-course grade: {problem}\n")


def _outcome(future, submission: Submission) -> tuple[JobResult, bool]:
    """What ``future``'s job gave (``failure`` when it raised or its workers died under it) and
    whether its workers died; the future is released."""
    from distributed import KilledWorker

    try:
        result, killed = future.result(), False
    except Exception as error:  # noqa: BLE001 (one job's failure is that student's)
        result, killed = failure(submission, error), isinstance(error, KilledWorker)
    future.release()
    return result, killed


def _same(bundle: CourseBundle) -> CourseBundle:
    """The bundle, as the result of a task: held by a worker, copied to the others as they need it,
    and computed again if every copy is lost with its worker (scattered data would be lost for good)."""
    return bundle


def dask_runner(client, allow_unsandboxed: bool = False, job=grade_submission):
    """A runner of ``job`` (``grade_submission``) on ``client``'s cluster (see the module's docstring)."""
    from distributed import as_completed

    def run(bundle: CourseBundle, submissions: list[Submission]) -> Iterator[tuple[Submission, JobResult]]:
        if not submissions:
            return
        run_id = uuid.uuid4().hex  # keys of this run only: another batch on the same scheduler has its own
        shared = client.submit(_same, bundle, key=f"bundle-{bundle.assignment}-{run_id}", pure=False)

        def submit(index: int, submission: Submission, kind: str):
            return client.submit(job, shared, submission, allow_unsandboxed,
                                 key=f"{kind}-{bundle.assignment}-{index}-{run_id}", pure=False)

        futures = {submit(index, submission, "grade"): submission for index, submission in enumerate(submissions)}
        waiting, suspects = set(futures), []
        try:
            for future in as_completed(futures):
                waiting.discard(future)
                result, killed = _outcome(future, futures[future])
                if killed:
                    suspects.append(futures[future])
                else:
                    yield futures[future], result
            for index, submission in enumerate(suspects):  # one at a time: a job that kills takes no other
                future = submit(index, submission, "alone")
                waiting.add(future)
                result, _ = _outcome(future, submission)
                waiting.discard(future)
                yield submission, result
        finally:
            client.cancel(list(waiting))
            shared.release()

    return run

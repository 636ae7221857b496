"""Bulk preparing and embedding on Ray: the model in an actor pool, results streamed back block by block."""

from __future__ import annotations

import ast
import functools
import logging
import os
import pickle
import socket
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from common.errors import UserError
from corpus.article import Article
from indexer.analysis.prepare import Prepared
from indexer.model.base import Embedder, ModelInfo
from indexer.places.gazetteer import Gazetteer
from indexer.write import pipeline

LOCAL = "local"  # `--ray local`: start Ray on this machine for this run only
DEFAULT_BATCH = 64  # passages per actor call, and per block written to the embedding cache
PREPARE_BATCH = 8  # articles per actor call when chunking
ACTOR_MEMORY = (
    3 << 29
)  # 1.5 GiB: an actor of multilingual-e5-small peaked at 1.3 GB RSS loading the model
PROBE_SECONDS = 5.0  # how long a remote address may take to accept a TCP connection
GCS_PORT, CLIENT_PORT = 6379, 10001
# Ray's own waits for an address that accepts connections but does not answer as Ray (measured: unbounded it
# retried for over two minutes; with these, about 25 s). The user's environment wins over these defaults.
CONNECT_BOUNDS = {
    "RAY_gcs_server_port_wait_time_s": "2",
    "RAY_py_gcs_connect_timeout_s": "5",
    "RAY_gcs_rpc_server_connect_timeout_s": "3",
    "RAY_CLIENT_MAX_CONNECTION_TIMEOUT_S": "5",
}


class RayMissing(UserError):
    """`--ray` was asked for but Ray is not installed."""

    status, code, field = 503, "ray_missing", "ray"

    def __init__(self) -> None:
        super().__init__(
            "Ray がインストールされていません。pip install 'jichitai-search[ray]' で入れてから実行してください",
            "Ray is not installed; install it with pip install 'jichitai-search[ray]' and run again",
        )


class RayUnreachable(UserError):
    """The Ray cluster at the address cannot be started or reached; nothing was written."""

    status, code, field = 503, "ray_unreachable", "ray"

    def __init__(self, address: str, cause: BaseException | str) -> None:
        super().__init__(
            f"Ray に接続できません: {address}（{cause}）。索引は変更していません。"
            "ray start --head で起動したクラスタのアドレスか、この機械で動かす local を指定してください",
            f"cannot reach Ray at {address} ({cause}); the index is unchanged. Give the address of a "
            "cluster started with `ray start --head`, or `local` to run Ray on this machine",
        )


class RayFailed(UserError):
    """Ray stopped part-way (a worker died, the cluster went away); the vectors made so far are cached."""

    status, code, field = 503, "ray_failed", "ray"

    def __init__(self, cause: BaseException) -> None:
        super().__init__(
            f"Ray での処理が途中で失敗しました（{type(cause).__name__}: {cause}）。索引は変更していません。"
            "埋め込み済みの分は保存されているので、もう一度実行すると続きから再開します",
            f"Ray failed part-way ({type(cause).__name__}: {cause}); the index is unchanged. The passages "
            "embedded so far are cached: run the command again to resume",
        )


class ModelMismatch(UserError):
    """A worker loaded a different model than the driver's (another version or cache on a remote node)."""

    status, code, field = 503, "ray_model_mismatch", "model"

    def __init__(self, expected: ModelInfo, found: ModelInfo) -> None:
        super().__init__(
            f"Ray のワーカーが別のモデルを読み込みました（期待 {expected}、実際 {found}）",
            f"a Ray worker loaded another model (expected {expected}, found {found})",
        )


@dataclass(frozen=True)
class Cluster:
    """The Ray this run uses: started here (`owned`, shut down when done) or joined."""

    address: str
    owned: bool
    cpus: int  # CPUs of the whole cluster
    node_cpus: int  # CPUs of its largest node: the most one actor's model can use
    memory: int  # bytes Ray may give to tasks and actors, the whole cluster


@dataclass(frozen=True)
class Layout:
    """How many model actors run, the model threads in each, and the CPUs Ray reserves for each."""

    workers: int
    threads: int
    cpus: float


def plan_layout(cluster: Cluster, workers: int | None = None, threads: int | None = None) -> Layout:
    """By default one single-threaded actor per CPU, as many as the memory holds; with `workers`, the cluster's
    CPUs shared between them."""
    count = workers or max(1, min(cluster.cpus, cluster.memory // ACTOR_MEMORY))
    each = threads or max(1, min(cluster.node_cpus, cluster.cpus // count))
    return Layout(count, each, min(float(each), cluster.cpus / count))


def _import_ray():
    try:
        import ray
        import ray.data  # noqa: F401 - the [ray] extra brings ray[data]; plain ray lacks pyarrow
    except ImportError as exc:
        raise RayMissing() from exc
    return ray


def _probe(address: str) -> None:
    """Refuse at once an address whose port does not answer (Ray itself retries for minutes)."""
    if address == "auto":
        return
    client = address.startswith("ray://")
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        host, port = address.removeprefix("ray://"), str(CLIENT_PORT if client else GCS_PORT)
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=PROBE_SECONDS).close()
    except OSError as exc:
        raise RayUnreachable(address, exc.strerror or exc) from exc


def connect(address: str) -> Cluster:
    """Ray started on this machine (`local`) or joined at `address` (as `ray.init` takes it).

    Ray's output stays off standard output: its own log at warnings only (on standard error), the workers' output
    kept in Ray's log files, Ray Data's progress bars off (the product shows its own)."""
    remote = address != LOCAL
    if remote:
        _probe(address)
        for name, value in CONNECT_BOUNDS.items():
            os.environ.setdefault(name, value)
    ray = _import_ray()
    _errors_to_stderr(ray)
    owned = False
    if not ray.is_initialized():  # a process that already holds Ray (tests, benchmarks) keeps it
        try:
            ray.init(
                address=address,
                include_dashboard=False if not remote else None,
                log_to_driver=False,
                logging_level=logging.WARNING,
            )
        except Exception as exc:  # noqa: BLE001 - ConnectionError, RuntimeError, ValueError, grpc errors
            raise RayUnreachable(address, exc) from exc
        owned = not remote
    _quiet(ray)
    resources = [n.get("Resources", {}) for n in ray.nodes() if n.get("Alive")]
    total = lambda name: int(sum(r.get(name, 0) for r in resources))  # noqa: E731
    largest = int(max((r.get("CPU", 0) for r in resources), default=1))
    return Cluster(address, owned, max(1, total("CPU")), max(1, largest), total("memory"))


def disconnect(cluster: Cluster) -> None:
    """Shut down the Ray this run started (a joined cluster keeps running)."""
    if cluster.owned:
        import ray

        ray.shutdown()


def _errors_to_stderr(ray) -> None:
    """Ray's driver prints the errors the cluster reports (a failed task, a dead actor) on standard output, even
    with `log_to_driver=False`; send them to standard error, so that `--json` leaves only the summary there."""
    module = ray._private.worker
    original = getattr(module, "print_to_stdstream", None)
    if original is None or getattr(original, "to_stderr", False):
        return

    def to_stderr(data: dict, ignore_prefix: bool) -> None:
        original({**data, "is_err": True}, ignore_prefix)

    to_stderr.to_stderr = True  # type: ignore[attr-defined]
    module.print_to_stdstream = to_stderr


def _quiet(ray) -> None:
    """Ray Data's progress bars off (the product shows its own) and its log at warnings only."""
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.enable_operator_progress_bars = False
    context.print_on_execution_start = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)


class Refusal(Exception):
    """A worker's UserError in a form Ray can carry back (UserError's own arguments do not survive pickling)."""

    @classmethod
    def of(cls, exc: UserError) -> Refusal:
        return cls(exc.ja, exc.en, exc.field, exc.status, exc.code)

    def user_error(self) -> UserError:
        ja, en, field, status, code = self.args
        return UserError(ja, en, field=field, status=status, code=code)


def refusing(method):
    """Run in a worker: a UserError leaves as a Refusal, which Ray can carry back."""

    @functools.wraps(method)
    def run(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        except UserError as exc:
            raise Refusal.of(exc) from None

    return run


def load_model(info: ModelInfo, cache_dir: str | None, threads: int) -> Embedder:
    """The driver's model, loaded in a worker from its settings (an ONNX session does not travel)."""
    embedder = Embedder.load(
        info.name, Path(cache_dir) if cache_dir else None, info.engine, info.precision, threads
    )
    if embedder.info != info:
        raise ModelMismatch(info, embedder.info)
    return embedder


class EmbedActor:
    """One model per actor; a batch of {key, text} in, {key, vector} out."""

    @refusing
    def __init__(self, info: ModelInfo, cache_dir: str | None, threads: int) -> None:
        self.embedder = load_model(info, cache_dir, threads)

    @refusing
    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        vectors = self.embedder.encode_passages([str(t) for t in batch["text"]])
        return {"key": batch["key"], "vector": vectors.astype(np.float32)}


class PrepareActor:
    """Chunking, municipality extraction and lexical counts; a batch of {index, article} (pickled) in, {index,
    prepared} (pickled `Prepared`) out."""

    @refusing
    def __init__(self, info: ModelInfo, cache_dir: str | None, gazetteer: Gazetteer) -> None:
        self.embedder, self.gazetteer = (
            load_model(info, cache_dir, 1),
            gazetteer,
        )  # the model only counts tokens

    @refusing
    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        done = [
            pickle.dumps(pipeline.prepare_one(pickle.loads(a), self.embedder, self.gazetteer))
            for a in batch["article"]
        ]
        return {"index": batch["index"], "prepared": np.array(done, dtype=object)}


def _carried(exc: BaseException) -> UserError:
    """The refusal a worker raised (inside Ray's wrapping), else RayFailed."""
    seen: BaseException | None = exc
    while seen is not None:
        if type(seen) is Refusal:  # Ray's wrappers also pass for instances of the cause's class
            return seen.user_error()
        seen = getattr(seen, "cause", None) or seen.__cause__
    for line in reversed(
        str(exc).splitlines()
    ):  # an actor that died in its constructor keeps only the text
        if line.startswith(f"{__name__}.{Refusal.__name__}: "):
            try:
                return Refusal(*ast.literal_eval(line.split(": ", 1)[1])).user_error()
            except (ValueError, SyntaxError, TypeError):
                break
    return RayFailed(exc)


@dataclass(frozen=True)
class RayPipeline:
    """`pipeline.Pipeline` on Ray: each dataset runs through a pool of `layout.workers` actors holding the model."""

    cluster: Cluster
    layout: Layout
    batch: int = DEFAULT_BATCH
    cache_dir: str | None = None  # where workers find the model (None: their default)

    def prepare(
        self, articles: Sequence[Article], embedder: Embedder, gazetteer: Gazetteer
    ) -> list[Prepared]:
        """Each article's passages and token counts, in the order given."""
        if not articles:
            return []
        items = [{"index": i, "article": pickle.dumps(a)} for i, a in enumerate(articles)]
        done: dict[int, Prepared] = {}
        for batch in self._run(
            items, PrepareActor, PREPARE_BATCH, (embedder.info, self.cache_dir, gazetteer), 1
        ):
            done.update(
                (int(i), pickle.loads(p)) for i, p in zip(batch["index"], batch["prepared"])
            )
        return [done[i] for i in range(len(articles))]

    def encode(
        self, pairs: Sequence[tuple[str, str]], embedder: Embedder
    ) -> Iterable[tuple[list[str], np.ndarray]]:
        """(keys, vectors) blocks as the actors finish them, in any order."""
        if not pairs:
            return
        items = [{"key": k, "text": t} for k, t in pairs]
        args = (embedder.info, self.cache_dir, self.layout.threads)
        for batch in self._run(items, EmbedActor, self.batch, args, self.layout.cpus):
            yield [str(k) for k in batch["key"]], np.asarray(batch["vector"], dtype=np.float32)

    def _run(
        self, items: list[dict], actor: type, size: int, args: tuple, cpus: float
    ) -> Iterator[dict[str, np.ndarray]]:
        import ray

        dataset = ray.data.from_items(items).map_batches(
            actor,
            batch_size=size,
            batch_format="numpy",
            fn_constructor_args=args,
            num_cpus=cpus,
            compute=ray.data.ActorPoolStrategy(
                size=min(self.layout.workers, -(-len(items) // size))
            ),
        )
        try:
            yield from dataset.iter_batches(batch_size=None, batch_format="numpy")
        except ray.exceptions.RayError as exc:
            raise _carried(exc) from exc

    def close(self) -> None:
        disconnect(self.cluster)

    def __enter__(self) -> RayPipeline:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def pipeline_for(
    address: str,
    workers: int | None = None,
    batch: int = DEFAULT_BATCH,
    cache_dir: Path | str | None = None,
    threads: int | None = None,
) -> RayPipeline:
    """The pipeline of `--ray ADDRESS`, connected now: a missing or unreachable Ray is refused before any write."""
    if workers is not None and workers < 1 or batch < 1:
        raise UserError(
            "Ray のワーカー数とバッチは 1 以上です",
            "Ray workers and batch must be at least 1",
            field="ray",
            code="invalid_setting",
        )
    cluster = connect(address)
    return RayPipeline(
        cluster,
        plan_layout(cluster, workers, threads),
        batch,
        str(cache_dir) if cache_dir else None,
    )

"""The `jsearch` command line: index, search, model and the commands built on them."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from api.settings import Settings
from common.errors import UserError, bilingual

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="自治体DX記事のセマンティック検索 / semantic search over municipal DX articles",
)

IndexDirOpt = Annotated[
    Path | None,
    typer.Option("--index-dir", help="索引ディレクトリ / index directory (JSEARCH_INDEX_DIR)"),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="JSON で出力 / print JSON")]
ModelOpt = Annotated[
    str | None,
    typer.Option(
        "--model", help="sentence-transformers モデル名かパス / model id or path (JSEARCH_MODEL)"
    ),
]
StoreOpt = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="索引の保存先: faiss か milvus:<URI> / where the index "
        "lives: faiss or milvus:<uri> (JSEARCH_STORE)",
    ),
]


def fail(exc: Exception, code: int = 1) -> NoReturn:
    """Print a user error in Japanese and English and exit non-zero."""
    typer.echo(bilingual(exc), err=True)
    raise typer.Exit(code)


def settings() -> Settings:
    """The JSEARCH_* settings; a bad value ends the command with what is wrong, in both languages."""
    from pydantic import ValidationError

    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "JSEARCH_" + "_".join(str(p) for p in first.get("loc", ())).upper()
        fail(
            UserError(
                f"設定 {name} の値が正しくありません: {first.get('input')!r}（{first.get('msg')}）",
                f"setting {name} is invalid: {first.get('input')!r} ({first.get('msg')})",
            ),
            2,
        )


def _embedder(model: str | None, target: Path | None = None, spec=None, rebuild: bool = False):
    """The model at the precision of the index at `target` (settings' index by default; a rebuild takes the
    default precision)."""
    from indexer.model.base import Embedder

    config = settings()
    precision = config.model_precision(target, spec, rebuild)
    return Embedder.load(
        model or config.model, config.cache_dir, config.engine, precision, config.threads
    )


RayOpt = Annotated[
    str | None,
    typer.Option(
        "--ray",
        help="Ray で文章化と埋め込み（local かアドレス）/ prepare and "
        "embed on Ray: `local` or an address as ray.init takes",
    ),
]


def _pipeline(address: str | None):
    """In this process by default; `--ray` spreads preparing and embedding over Ray (imported only then)."""
    from indexer.write.pipeline import LOCAL

    if not address:
        return LOCAL
    from indexer.write import ray_pipeline

    return ray_pipeline.pipeline_for(address, cache_dir=settings().cache_dir)


def _store(given: str | None):
    """The store the flag or JSEARCH_STORE names; a bad one ends the command (exit 2)."""
    from indexer.stores.spec import BadStore, parse

    config = settings()
    try:
        return parse(given or config.store, config.milvus_token, config.milvus_collection)
    except BadStore as exc:
        fail(exc, 2)


def _cache_dir() -> Path:
    from indexer.model.base import default_cache_dir

    return settings().cache_dir or default_cache_dir()


def _dump(data: dict) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


@app.command("model")
def model_cmd(model: ModelOpt = None, json_out: JsonOpt = False) -> None:
    """モデルを用意する（同梱モデルの変換と ONNX 書き出し）/ prepare the model (convert, export to ONNX)."""
    from dataclasses import asdict

    from indexer.model import export
    from indexer.model.base import resolve_model

    config = settings()
    path = resolve_model(model or config.model, config.cache_dir)
    info = asdict(_embedder(model).info)
    exported = (
        export.export_dir(Path(path), _cache_dir()) / export.FILES[info["precision"]]
        if config.engine == "onnx"
        else None
    )
    if json_out:
        return _dump({"path": str(path), "onnx": str(exported) if exported else None, **info})
    typer.echo(
        f"モデル / model: {info['name']}（{info['engine']} {info['precision']}）\n{path}"
        + (f"\n{exported}" if exported else "")
    )


@app.command("index")
def index_cmd(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="ファイルかフォルダ / files or folders")
    ] = None,
    index_dir: IndexDirOpt = None,
    json_out: JsonOpt = False,
    model: ModelOpt = None,
    prune: Annotated[
        bool,
        typer.Option(
            "--prune", help="消えたファイルの記事を削除 / drop articles whose files are gone"
        ),
    ] = False,
    rebuild: Annotated[
        bool,
        typer.Option("--rebuild", help="既存の記事を引き継がない / start from these paths only"),
    ] = False,
    store: StoreOpt = None,
    ray: RayOpt = None,
) -> None:
    """記事を索引に追加・更新する / add or update articles in the index."""
    from indexer.write import indexing

    target, spec = index_dir or settings().index_dir, _store(store)
    try:
        pipeline = _pipeline(ray)
        sources = indexing.default_sources(target, paths or [], spec)
        loaded = indexing.load(sources)
        for error in loaded.errors:
            typer.echo(f"スキップ / skipped: {error}", err=True)
        report = indexing.index_articles(
            target,
            loaded.articles,
            sources,
            _embedder(model, target, spec, rebuild),
            prune=prune,
            rebuild=rebuild,
            progress=not json_out,
            lock_timeout=settings().lock_timeout,
            store=spec,
            pipeline=pipeline,
        )
    except UserError as exc:
        fail(exc)
    summary = {
        **indexing.summary(report, target, loaded.errors, spec),
        "merge": _merge_after(target, spec),
    }
    _dump(summary) if json_out else typer.echo(indexing.describe(summary))


def _merge_after(target: Path, spec) -> dict | None:
    """The background merge a write may ask for, run before the command exits (not counted in `seconds`)."""
    from dataclasses import asdict

    from indexer.write import indexing

    if not settings().merge:
        return None
    try:
        done = indexing.merge_after(target, spec, settings().lock_timeout)
    except UserError as exc:
        typer.echo(bilingual(exc), err=True)
        return None
    return asdict(done) if done else None


@app.command("merge")
def merge_cmd(
    index_dir: IndexDirOpt = None,
    json_out: JsonOpt = False,
    max_segments: Annotated[
        int | None,
        typer.Option(
            "--max-segments",
            min=1,
            help="この数以下になるまで統合（削除分も消す）/ merge down to this many "
            "segments, purging deleted rows",
        ),
    ] = None,
    store: StoreOpt = None,
) -> None:
    """セグメントを統合する（既定: 方針が求めるときだけ）/ merge segments (by default only when the policy asks)."""
    from dataclasses import asdict

    from indexer.stores.factory import open_store

    target = index_dir or settings().index_dir
    chosen = open_store(_store(store), target)
    if not chosen.merges:
        _dump({"index_dir": str(target), "merge": None}) if json_out else typer.echo(
            f"{chosen.describe()} はセグメントを自分で統合します / {chosen.describe()} compacts its own "
            "segments: nothing to merge"
        )
        return
    try:
        chosen.require_index()
        done = chosen.merge(max_segments, settings().lock_timeout)
    except UserError as exc:
        fail(exc)
    if json_out:
        _dump({"index_dir": str(target), "merge": asdict(done) if done else None})
    elif done:
        typer.echo(
            f"{len(done.merged)} 個のセグメントを {done.segment} に統合しました（{done.rows} 文章、削除 "
            f"{done.purged_rows} 件を除去、{done.seconds:.1f} 秒）\nMerged {len(done.merged)} segments into "
            f"{done.segment} ({done.rows} passages, {done.purged_rows} deleted rows purged)."
        )
    else:
        typer.echo("統合するセグメントはありません / nothing to merge")


@app.command("add")
def add_cmd(
    paths: Annotated[
        list[Path],
        typer.Argument(help="追加するファイルか転送バンドル（.tar）/ files or transfer bundles"),
    ],
    index_dir: IndexDirOpt = None,
    json_out: JsonOpt = False,
    model: ModelOpt = None,
    store: StoreOpt = None,
    ray: RayOpt = None,
) -> None:
    """ファイルを索引に追加・更新する（他の記事はそのまま）。.tar は jsearch crawl --to の転送バンドルで、全体を
    確かめてから索引します / add or update these files only; a .tar is a transfer bundle, checked whole first."""
    from corpus.crawl import bundle
    from indexer.write import indexing

    target, spec = index_dir or settings().index_dir, _store(store)
    bundles = [p for p in paths if p.suffix.lower() == ".tar"]
    files = [p for p in paths if p not in bundles]
    try:
        unbundled = [
            bundle.read(p) for p in bundles
        ]  # every bundle checked before anything is indexed
        pipeline = _pipeline(ray)
        loaded = indexing.load(files) if files else None
        articles = [a for u in unbundled for a in u.articles] + list(
            loaded.articles if loaded else []
        )
        report = indexing.index_articles(
            target,
            articles,
            files,
            _embedder(model, target, spec),
            lock_timeout=settings().lock_timeout,
            store=spec,
            pipeline=pipeline,
        )
    except UserError as exc:
        fail(exc)
    if unbundled:
        from api.crawling import record_also_at

        record_also_at(target, [pair for u in unbundled for pair in u.also_at])
    errors = loaded.errors if loaded else ()
    for error in errors:
        typer.echo(f"スキップ / skipped: {error}", err=True)
    summary = {
        **indexing.summary(report, target, errors, spec),
        "ids": [a.id for a in articles],
        "merge": _merge_after(target, spec),
    }
    _dump(summary) if json_out else typer.echo(indexing.describe(summary))


AllowHostOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--allow-host",
        help="リダイレクトやフィードがたどってよい別のホスト / another host redirects and feeds may reach",
    ),
]


@app.command("crawl")
def crawl_cmd(
    urls: Annotated[
        list[str] | None,
        typer.Argument(
            help="フィード・サイトマップ・一覧ページの URL（省略時は期限の来たソース）/ start URLs"
        ),
    ] = None,
    to: Annotated[
        Path | None,
        typer.Option(
            "--to", help="索引せず転送バンドル（.tar）に書く / write a transfer bundle instead"
        ),
    ] = None,
    allow_host: AllowHostOpt = None,
    max_pages: Annotated[
        int | None,
        typer.Option("--max-pages", min=1, help="取得する記事ページの上限 / at most N pages"),
    ] = None,
    index_dir: IndexDirOpt = None,
    json_out: JsonOpt = False,
    model: ModelOpt = None,
    store: StoreOpt = None,
) -> None:
    """Web から記事を取り込む（robots.txt と間隔を守る）/ fetch articles from the web, politely, and index them."""
    from api import crawling
    from indexer.write import indexing

    config = settings()
    target, spec = index_dir or config.index_dir, _store(store)
    try:
        if to is not None:
            done = crawling.into_bundle(target, urls or [], to, config, allow_host or [], max_pages)
        else:

            def live(ids):
                try:
                    return indexing.live_ids(target, list(ids), spec)
                except UserError:
                    return set()  # no index yet

            def write(change):
                return indexing.apply(
                    target, change, _embedder(model), spec, lock_timeout=config.lock_timeout
                )

            done = crawling.into_index(
                target, urls or [], config, write, live, allow_host or [], max_pages
            )
            if done["generation"]:
                done["merge"] = _merge_after(target, spec)
    except UserError as exc:
        fail(exc)
    if json_out:
        return _dump(done)
    for skipped in done["skipped"]:
        typer.echo(
            f"スキップ / skipped: {skipped['url']} ({skipped['reason']}: {skipped['detail']})",
            err=True,
        )
    typer.echo(
        f"取得 {done['fetched']} 件（新規 {done['new']}・更新 {done['updated']}・変更なし {done['unchanged']}・"
        f"未更新 304 {done['not_modified']}・重複 {done['duplicates']}・スキップ {len(done['skipped'])}、"
        f"{done['seconds']:.1f} 秒）\nFetched {done['fetched']}: {done['new']} new, {done['updated']} updated, "
        f"{done['unchanged']} unchanged, {done['not_modified']} not modified, {done['duplicates']} duplicates, "
        f"{len(done['skipped'])} skipped"
        + (f"; bundle {done['bundle']}" if to is not None else "")
        + "."
    )


sources_app = typer.Typer(
    no_args_is_help=True, help="定期的に取り込む Web のソース / web sources crawled on a schedule"
)
app.add_typer(sources_app, name="sources")


def _sources_conn(index_dir: Path | None):
    from corpus.crawl import state

    return state.connect(index_dir or settings().index_dir)


@sources_app.command("add")
def sources_add(
    url: Annotated[
        str, typer.Argument(help="フィード・サイトマップ・一覧ページの URL / start URL")
    ],
    every: Annotated[str, typer.Option("--every", help="間隔 / interval (30m, 6h, 1d)")] = "6h",
    name: Annotated[str, typer.Option("--name", help="掲載元の名前 / source name")] = "",
    index_dir: IndexDirOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """ソースを登録する（同じ URL なら名前と間隔を更新）/ register a source (again: update it)."""
    from corpus.crawl import sources

    conn = _sources_conn(index_dir)
    try:
        found = sources.add(conn, url, every, name)
    except UserError as exc:
        fail(exc, 2)
    finally:
        conn.close()
    if json_out:
        return _dump(found.view())
    typer.echo(
        f"ソースを登録しました / registered: {found.url}（{found.view()['every']} ごと / every）"
    )


@sources_app.command("list")
def sources_list(index_dir: IndexDirOpt = None, json_out: JsonOpt = False) -> None:
    """登録済みのソースと最後に取り込んだ時刻 / registered sources and when each was last crawled."""
    from corpus.crawl import sources

    conn = _sources_conn(index_dir)
    try:
        found = [s.view() for s in sources.listed(conn)]
    finally:
        conn.close()
    if json_out:
        return _dump({"sources": found})
    if not found:
        typer.echo("ソースはありません / no sources")
    for s in found:
        typer.echo(
            f"{s['id']}  {s['url']}  {s['name'] or '-'}  {s['every']}  {s['last_crawl'] or '未取得 / never'}"
        )


@sources_app.command("remove")
def sources_remove(
    url: Annotated[str, typer.Argument(help="ソースの URL か id / source URL or id")],
    index_dir: IndexDirOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """ソースの登録を外す（取り込んだ記事は残る）/ unregister a source (its articles stay)."""
    from corpus.crawl import sources

    conn = _sources_conn(index_dir)
    try:
        found = sources.remove(conn, url)
    except UserError as exc:
        fail(exc)
    finally:
        conn.close()
    if json_out:
        return _dump({**found.view(), "status": "removed"})
    typer.echo(f"ソースを外しました / removed: {found.url}")


synonyms_app = typer.Typer(
    no_args_is_help=True,
    help="組織独自の同義語（索引とともに世代ごとに保存）/ the own synonym groups, kept with the index",
)
app.add_typer(synonyms_app, name="synonyms")


def _synonyms_out(groups: list[list[str]], generation: str | None, json_out: bool) -> None:
    if json_out:
        return _dump({"groups": groups, "generation": generation})
    if not groups:
        typer.echo("同義語はありません / no synonym groups")
    for group in groups:
        typer.echo(" = ".join(group))


def _synonyms_change(index_dir: Path | None, store: str | None, edit, json_out: bool) -> None:
    """Read the own groups, edit them, commit them as a new commit point, print them."""
    from indexer.stores.factory import open_store

    try:
        target = open_store(_store(store), index_dir or settings().index_dir)
        groups = edit(target.synonyms())
        generation = target.set_synonyms(groups, settings().lock_timeout)
    except UserError as exc:
        fail(exc, 2)
    _synonyms_out(groups, generation, json_out)


@synonyms_app.command("list")
def synonyms_list(
    index_dir: IndexDirOpt = None, json_out: JsonOpt = False, store: StoreOpt = None
) -> None:
    """同義語グループの一覧 / list the own synonym groups."""
    from indexer.stores.factory import open_store

    try:
        target = open_store(_store(store), index_dir or settings().index_dir)
        target.require_index()
        groups = target.synonyms()
    except UserError as exc:
        fail(exc)
    _synonyms_out(groups, None, json_out)


@synonyms_app.command("add")
def synonyms_add(
    words: Annotated[
        list[str], typer.Argument(help="同じ意味の語（2 語以上）/ words that mean the same")
    ],
    index_dir: IndexDirOpt = None,
    json_out: JsonOpt = False,
    store: StoreOpt = None,
) -> None:
    """語をひとつのグループにする（既存のグループにある語はそのグループとまとめる）/ make the words one group."""
    from indexer.write import synonyms

    _synonyms_change(index_dir, store, lambda groups: synonyms.added(groups, words), json_out)


@synonyms_app.command("remove")
def synonyms_remove(
    word: Annotated[str, typer.Argument(help="外す語 / the word to remove")],
    index_dir: IndexDirOpt = None,
    json_out: JsonOpt = False,
    store: StoreOpt = None,
) -> None:
    """語をグループから外す（1 語だけ残ったグループは消える）/ remove a word from its group."""
    from indexer.write import synonyms

    _synonyms_change(index_dir, store, lambda groups: synonyms.removed(groups, word), json_out)


@app.command("remove")
def remove_cmd(
    ids: Annotated[list[str], typer.Argument(help="記事 ID / article ids")],
    index_dir: IndexDirOpt = None,
    json_out: JsonOpt = False,
    model: ModelOpt = None,
    store: StoreOpt = None,
) -> None:
    """記事を索引から外す / remove articles from the index by id."""
    from indexer.write import indexing

    target, spec = index_dir or settings().index_dir, _store(store)
    try:
        report = indexing.remove_ids(
            target, ids, _embedder(model, target, spec), settings().lock_timeout, spec
        )
    except UserError as exc:
        fail(exc)
    summary = {**indexing.summary(report, target, store=spec), "merge": _merge_after(target, spec)}
    _dump(summary) if json_out else typer.echo(indexing.describe(summary))


@app.command("watch")
def watch_cmd(
    folder: Annotated[Path, typer.Argument(help="見張るフォルダ / folder to watch")],
    index_dir: IndexDirOpt = None,
    json_out: JsonOpt = False,
    model: ModelOpt = None,
    store: StoreOpt = None,
) -> None:
    """フォルダを索引し、ファイルの追加・変更・削除を反映し続ける / index a folder and follow its changes."""
    from indexer.write import changes, indexing, watch

    target, spec = index_dir or settings().index_dir, _store(store)
    if not folder.is_dir():
        fail(indexing.LoadError(str(folder), "フォルダではありません", "not a folder"))
    embedder = _embedder(model, target, spec)

    def report(result, batch) -> None:
        for error in batch.errors:
            typer.echo(f"スキップ / skipped: {error}", err=True)
        if result is not None:
            summary = {
                **indexing.summary(result, target, batch.errors, spec),
                "merge": _merge_after(target, spec),
            }
            typer.echo(
                json.dumps(summary, ensure_ascii=False) if json_out else indexing.describe(summary)
            )

    try:
        try:
            first, loaded = indexing.add_files(
                target, [folder], embedder, settings().lock_timeout, spec
            )
            report(first, watch.Batch(changes.Change(), loaded.errors))
        except changes.NoArticles:
            pass  # an empty folder: index its files as they arrive
        typer.echo(
            f"{folder} を見張っています（Ctrl+C で終了）/ watching {folder} (Ctrl+C to stop)",
            err=True,
        )
        watch.run(
            target,
            folder,
            embedder,
            report,
            lambda exc: typer.echo(bilingual(exc), err=True),
            settings().lock_timeout,
            store=spec,
        )
    except UserError as exc:
        fail(exc)


@app.command("snapshot")
def snapshot_cmd(
    dest: Annotated[Path, typer.Argument(help="新しいフォルダ / a new folder")],
    index_dir: IndexDirOpt = None,
    json_out: JsonOpt = False,
    store: StoreOpt = None,
) -> None:
    """提供中の索引の一貫したコピーを取る（書き込みは止めない）/ a consistent copy of the served index."""
    from indexer.stores.factory import open_store

    target = index_dir or settings().index_dir
    try:
        done = open_store(_store(store), target).snapshot(dest)
    except UserError as exc:
        fail(exc)
    if json_out:
        _dump(done)
    else:
        typer.echo(
            f"{done['commit_point']} のスナップショットを {done['path']} に作りました（記事 {done['articles']} 件、"
            f"{done['files']} ファイル、{done['bytes']:,} バイト、SHA-256 つき）\nSnapshot of "
            f"{done['commit_point']} written to {done['path']} ({done['files']} files, {done['bytes']:,} bytes)."
        )


@app.command("restore")
def restore_cmd(
    src: Annotated[Path, typer.Argument(help="jsearch snapshot のフォルダ / a snapshot folder")],
    index_dir: IndexDirOpt = None,
    json_out: JsonOpt = False,
    store: StoreOpt = None,
) -> None:
    """スナップショットを全部確かめてから、新しいコミット点として戻す / check a snapshot, then restore it."""
    from indexer.stores.factory import open_store

    target = index_dir or settings().index_dir
    try:
        done = open_store(_store(store), target).restore(src, settings().lock_timeout)
    except UserError as exc:
        fail(exc)
    if json_out:
        _dump(done)
    else:
        typer.echo(
            f"{done['snapshot_of']} を {done['generation']} として {done['index_dir']} に戻しました"
            f"（記事 {done['articles']} 件。"
            + (
                f"前の {done['previous']} はひとつ前のコミット点として残ります"
                if done["previous"]
                else "新しい索引"
            )
            + "）\n"
            f"Restored {done['snapshot_of']} as {done['generation']} in {done['index_dir']}."
        )


@app.command("check")
def check_cmd(
    index_dir: IndexDirOpt = None, json_out: JsonOpt = False, store: StoreOpt = None
) -> None:
    """索引のファイルが揃って壊れていないか確かめる / verify the served commit point's files."""
    from indexer.stores.factory import open_store

    target = index_dir or settings().index_dir
    try:
        result = open_store(_store(store), target).check()
    except UserError as exc:
        fail(exc)
    if json_out:
        _dump(result)
    else:
        typer.echo(describe_check(result))
    raise typer.Exit(0 if result["ok"] else 1)


def describe_check(result: dict) -> str:
    """The check's findings, Japanese then English."""
    if result["ok"]:
        return f"索引は正常です（{result['generation']}）/ the index is intact ({result['generation']})"
    lines = [
        f"索引 {result['generation']} に問題があります / generation {result['generation']} is damaged:"
    ]
    lines += [f"  {p['file']}: {p['ja']} / {p['en']}" for p in result["problems"]]
    source = result["repair_from"]
    lines.append(
        f"次の書き込み（jsearch index など）で {source} の記事から作り直します / the next write rebuilds "
        f"from the articles of {source}"
        if source
        else "記事を読める世代がありません。jsearch index --rebuild "
        "で作り直してください / no generation's articles can be read; rebuild with `jsearch index --rebuild`"
    )
    return "\n".join(lines)


@app.command("search")
def search_cmd(
    query: Annotated[str, typer.Argument(help="検索語 / query")],
    k: Annotated[int, typer.Option("-k", help="件数 / number of passages (1-50)")] = 10,
    mode: Annotated[str, typer.Option("--mode", help="hybrid | dense | lexical")] = "hybrid",
    prefecture: Annotated[
        str | None, typer.Option("--prefecture", help="都道府県 / prefecture")
    ] = None,
    municipality: Annotated[
        str | None, typer.Option("--municipality", help="団体コード / code")
    ] = None,
    source: Annotated[str | None, typer.Option("--source", help="掲載元 / source")] = None,
    date_from: Annotated[
        str | None, typer.Option("--from", help="掲載日の下限 / from YYYY-MM-DD")
    ] = None,
    date_to: Annotated[
        str | None, typer.Option("--to", help="掲載日の上限 / to YYYY-MM-DD")
    ] = None,
    index_dir: IndexDirOpt = None,
    json_out: JsonOpt = False,
    model: ModelOpt = None,
    store: StoreOpt = None,
    expand: Annotated[
        bool,
        typer.Option(
            "--expand/--no-expand",
            help="同義語・表記ゆれも含めて検索 / also search synonyms and spelling variants",
        ),
    ] = True,
) -> None:
    """質問に答える文章と自治体を探す / find the passages and municipalities that answer a question."""
    from api.render import listing
    from indexer.stores.base import Filters
    from search.engine import Engine
    from search.errors import QueryError

    try:
        spec = _store(store)
        target = index_dir or settings().index_dir
        engine = Engine(
            target,
            _embedder(model, target, spec),
            dense_weight=settings().dense_weight,
            word_evidence=settings().word_evidence,
            store=spec,
            synonyms=settings().synonyms,
            cache_dir=settings().cache_dir,
        )
        answer = engine.search(
            query, k, mode, Filters(prefecture, municipality, source, date_from, date_to), expand
        )
    except UserError as exc:
        fail(exc, 2 if isinstance(exc, QueryError) else 1)
    _dump(answer) if json_out else typer.echo(listing(answer))


@app.command("eval")
def eval_cmd(
    file: Annotated[
        Path, typer.Argument(help="dev_queries.json か SQuAD 形式 / dev queries or SQuAD file")
    ],
    modes: Annotated[
        list[str] | None, typer.Option("--mode", help="hybrid | dense | lexical（複数可）")
    ] = None,
    index_dir: IndexDirOpt = None,
    json_out: JsonOpt = False,
    model: ModelOpt = None,
    per_query: Annotated[
        bool, typer.Option("--per-query", help="質問ごとの結果も表示 / show each query")
    ] = False,
    store: StoreOpt = None,
) -> None:
    """検索品質を測る / measure retrieval quality (R@1, R@5, R@10, MRR@10, nDCG@10)."""
    from search import evaluation
    from search.engine import check_request

    try:
        for mode in modes or []:
            check_request(1, mode)
        target, spec = index_dir or settings().index_dir, _store(store)
        squad = evaluation.read_eval_file(file).kind != "dev"  # indexed anew: the default precision
        result = evaluation.run_file(
            file,
            modes or ["hybrid", "dense", "lexical"],
            target,
            _embedder(model, target, spec, rebuild=squad),
            cache_dir=_cache_dir(),
            dense_weight=settings().dense_weight,
            word_evidence=settings().word_evidence,
            store=spec,
            synonyms=settings().synonyms,
        )
    except UserError as exc:
        fail(exc, 2)
    if json_out:
        _dump(result)
        return
    if per_query:
        typer.echo(evaluation.per_query_table(result))
    typer.echo(evaluation.table(result))


@app.command("serve")
def serve_cmd(
    host: Annotated[
        str, typer.Option("--host", help="待ち受けアドレス / bind address")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="ポート / port")] = 8000,
    index_dir: IndexDirOpt = None,
    model: ModelOpt = None,
    store: StoreOpt = None,
) -> None:
    """HTTP API と検索ページ（と /mcp）を起動する / run the HTTP API, the search page and /mcp."""
    from api.main import run

    try:
        run(_served(index_dir, model, store), host, port)
    except UserError as exc:
        fail(exc)


@app.command("mcp")
def mcp_cmd(index_dir: IndexDirOpt = None, model: ModelOpt = None, store: StoreOpt = None) -> None:
    """MCP サーバーを標準入出力で動かす（AI アシスタントが起動する）/ serve MCP over stdio for assistants."""
    from api.mcp import stdio

    try:
        stdio.serve(_served(index_dir, model, store))
    except UserError as exc:
        fail(exc)


def _served(index_dir: Path | None, model: str | None, store: str | None) -> Settings:
    """The settings with the command line's flags over them (a bad store ends the command)."""
    _store(store)
    overrides = {
        k: v
        for k, v in (("index_dir", index_dir), ("model", model), ("store", store))
        if v is not None
    }
    return Settings(**{**settings().model_dump(), **overrides})


saved_app = typer.Typer(
    no_args_is_help=True,
    help="保存した検索（新着事例のフィード）/ saved searches (feeds of new cases)",
)
app.add_typer(saved_app, name="saved")


def _saved_store(index_dir: Path | None):
    from api.saved.store import SavedStore, default_path

    config = settings()
    target = index_dir or config.index_dir
    return SavedStore(config.saved_path or default_path(target)), target


def _saved_row(saved, matches: int) -> dict:
    return {
        "id": saved.id,
        "name": saved.name,
        "q": saved.q,
        "filters": saved.filters,
        "created": saved.created,
        "feed_path": f"/saved-searches/{saved.id}/feed.atom",
        "matches": matches,
    }


@saved_app.command("list")
def saved_list_cmd(index_dir: IndexDirOpt = None, json_out: JsonOpt = False) -> None:
    """保存した検索の一覧 / list the saved searches."""
    store, _ = _saved_store(index_dir)
    rows = [_saved_row(s, store.count(s.id)) for s in store.all()]
    store.close()
    if json_out:
        _dump({"saved_searches": rows})
        return
    if not rows:
        typer.echo("保存した検索はありません / no saved searches")
    for r in rows:
        filters = " ".join(f"{k}={v}" for k, v in r["filters"].items())
        typer.echo(
            f"{r['id']}  {r['name']}  「{r['q']}」 {filters}  一致 {r['matches']} 件  {r['feed_path']}"
        )


@saved_app.command("add")
def saved_add_cmd(
    name: Annotated[str, typer.Argument(help="名前 / name")],
    query: Annotated[str, typer.Argument(help="検索語 / query")],
    prefecture: Annotated[
        str | None, typer.Option("--prefecture", help="都道府県 / prefecture")
    ] = None,
    municipality: Annotated[
        str | None, typer.Option("--municipality", help="団体コード / code")
    ] = None,
    source: Annotated[str | None, typer.Option("--source", help="掲載元 / source")] = None,
    date_from: Annotated[
        str | None, typer.Option("--from", help="掲載日の下限 / from YYYY-MM-DD")
    ] = None,
    date_to: Annotated[
        str | None, typer.Option("--to", help="掲載日の上限 / to YYYY-MM-DD")
    ] = None,
    index_dir: IndexDirOpt = None,
    json_out: JsonOpt = False,
    model: ModelOpt = None,
) -> None:
    """検索を保存する（以後に届いた記事が答えるとフィードに載る）/ save a search."""
    from api.saved.percolator import Percolator
    from api.saved.saving import save
    from indexer.stores.base import Filters
    from search.engine import Engine
    from search.errors import QueryError

    store, target = _saved_store(index_dir)
    try:
        engine = Engine(target, _embedder(model, target))
        saved = save(
            store,
            Percolator(store),
            engine,
            name,
            query,
            Filters(prefecture, municipality, source, date_from, date_to),
        )
    except UserError as exc:
        store.close()
        fail(exc, 2 if isinstance(exc, QueryError) else 1)
    row = _saved_row(saved, 0)
    store.close()
    _dump(row) if json_out else typer.echo(f"保存しました / saved: {row['id']}  {row['feed_path']}")


@saved_app.command("remove")
def saved_remove_cmd(
    search_id: Annotated[str, typer.Argument(help="保存した検索の ID / id")],
    index_dir: IndexDirOpt = None,
) -> None:
    """保存した検索を削除する / delete a saved search."""
    store, _ = _saved_store(index_dir)
    gone = store.remove(search_id)
    store.close()
    if not gone:
        fail(
            UserError(
                f"保存した検索が見つかりません: {search_id}",
                f"no saved search with id {search_id!r}",
            )
        )
    typer.echo(f"削除しました / removed: {search_id}")


def main() -> None:
    """Entry point of the `jsearch` console script."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()

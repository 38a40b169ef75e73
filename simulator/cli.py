"""The `gosim` command: serve, fixtures generate / validate, scenarios check."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .settings import Settings


def _serve(args: argparse.Namespace) -> int:
    settings = Settings.from_env(
        host=args.host, port=args.port, workers=args.workers, storage=args.storage, seed=args.seed,
        fixtures=args.fixtures, data=args.data, scenarios=args.scenarios, log_format=args.log_format,
    )
    # `import httpx` (connexion imports starlette.testclient, which imports it) also imports httpx's command-line
    # client when click, rich and pygments are installed: ~30 ms of every start. The server never runs it; a None
    # entry makes that optional import fail, and httpx falls back to a stub `httpx.main`.
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    from .server import serve

    return serve(settings)


def _generate(args: argparse.Namespace) -> int:
    from .datagen import write_dataset
    from .services.dataset import build_index

    out = Path(args.out)
    progress = None
    if sys.stderr.isatty() or args.progress:
        def progress(done: int, total: int) -> None:
            width = 30
            filled = width * done // max(total, 1)
            print(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end="", file=sys.stderr, flush=True)
            if done >= total:
                print(file=sys.stderr)
    path = write_dataset(args.seed, args.persons, out, progress=progress)
    print(f"wrote {args.persons} persons to {path}")
    # Built now so that `gosim serve --data` only opens it; serve rebuilds it if the jsonl is edited later.
    print(f"indexed them in {build_index(path)}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from .fixtures_check import validate_dir

    problems = validate_dir(Path(args.dir))
    for problem in problems[:50]:
        print(problem, file=sys.stderr)
    if len(problems) > 50:
        print(f"... and {len(problems) - 50} more", file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s) in {args.dir}", file=sys.stderr)
        return 1
    print(f"{args.dir}: ok")
    return 0


def _check_scenarios(args: argparse.Namespace) -> int:
    from .scenarios.loader import ScenarioFileError, known_operations, load_file
    from .spec import spec_dir

    try:
        scenarios, _ = load_file(Path(args.file), known_operations(spec_dir()))
    except ScenarioFileError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s) in {args.file}", file=sys.stderr)
        return 1
    rules = sum(len(s.rules) for s in scenarios)
    print(f"{args.file}: ok ({len(scenarios)} scenario(s), {rules} rule(s): {', '.join(s.name for s in scenarios)})")
    return 0


def _generate_docs(args: argparse.Namespace) -> int:
    from .docs_gen import generate

    for path in generate(Path(args.out)):
        print(f"wrote {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gosim", description="Gosuslugi portal simulator for banks.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the simulator (gunicorn with uvicorn workers)")
    serve.add_argument("--host", help="bind address (GOSIM_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (GOSIM_PORT, default 8380)")
    serve.add_argument("--workers", type=int, help="worker processes (GOSIM_WORKERS, default: one per core)")
    serve.add_argument("--storage", help="memory:// | sqlite:///path | redis://host (GOSIM_STORAGE)")
    serve.add_argument("--seed", type=int, help="seed of every random choice (GOSIM_SEED, default 42)")
    serve.add_argument("--fixtures", help="fixtures directory (GOSIM_FIXTURES)")
    serve.add_argument("--data", help="generated dataset (persons.jsonl or its directory) to load too (GOSIM_DATA)")
    serve.add_argument("--scenarios", help="scenario file to load at start (GOSIM_SCENARIOS)")
    serve.add_argument("--log-format", choices=("json", "text", "off"),
                       help="gosim's log lines: json (default), text, or off (GOSIM_LOG_FORMAT)")
    serve.set_defaults(func=_serve)

    fixtures = sub.add_parser("fixtures", help="generate or validate fixture data")
    fsub = fixtures.add_subparsers(dest="fixtures_command", required=True)
    gen = fsub.add_parser("generate", help="bulk persons with faker ru_RU; one seed, the same bytes")
    gen.add_argument("--seed", type=int, default=42)
    gen.add_argument("--persons", type=int, default=10000)
    gen.add_argument("--out", default="data")
    gen.add_argument("--progress", action="store_true", help="show a progress bar even when not on a terminal")
    gen.set_defaults(func=_generate)
    val = fsub.add_parser("validate", help="check fixtures against their schema and check digits")
    val.add_argument("dir", nargs="?", default=str(Settings().fixtures))
    val.set_defaults(func=_validate)

    scenarios = sub.add_parser("scenarios", help="work with failure scenario files")
    ssub = scenarios.add_subparsers(dest="scenarios_command", required=True)
    check = ssub.add_parser("check", help="validate a scenario file; every problem is printed with its line and field")
    check.add_argument("file")
    check.set_defaults(func=_check_scenarios)

    docs = sub.add_parser("docs", help="reference documentation generated from the code")
    dsub = docs.add_subparsers(dest="docs_command", required=True)
    gen_docs = dsub.add_parser("generate", help="write errors.md, settings.md, magic-values.md, scenario-presets.md")
    gen_docs.add_argument("--out", default="docs/reference")
    gen_docs.set_defaults(func=_generate_docs)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ValueError as exc:
        print(f"gosim: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

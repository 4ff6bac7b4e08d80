"""The `newsclf` command: serve, classify, train, evaluate, demo, broker.

`main(argv)` returns the exit code, so tests call it in process. Every error a user can cause
(bad configuration, a missing or refused model, refused credentials, a busy port, bad training
data) is one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from consumer import __version__, logs
from consumer.config import SETTINGS, ServiceConfig, add_arguments, build_config, resolve_model_dir
from consumer.errors import ServiceError
from model.errors import ModelError

USER_ERRORS = (ServiceError, ModelError)
CLASSIFY_SETTINGS = ("model", "max_message_bytes", "batch_size", "log_format", "log_level")


def _serve(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    config = build_config(vars(args), environ)
    logs.configure(config.log_format, config.log_level)
    from consumer.serve import serve  # after the config check: bad flags fail before heavy imports

    return serve(config)


def _classify(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    from consumer.offline import classify_stream

    config = build_config(vars(args), environ)
    logs.configure("text", config.log_level if args.log_level else "error")
    if args.text is not None:
        lines: Sequence[str] = [args.text]
        return classify_stream(config, lines, sys.stdout, raw_text=True)
    if args.input:
        with open(args.input, encoding="utf-8", errors="surrogateescape") as handle:
            return classify_stream(config, handle, sys.stdout)
    return classify_stream(config, sys.stdin, sys.stdout)


def _train(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    from training.corpus import bundled_corpus_files, bundled_holdout_file
    from training.train import TrainingOptions, train

    logs.configure("text", "warning")
    data = [Path(p) for p in args.data] if args.data else bundled_corpus_files()
    holdout = Path(args.holdout) if args.holdout else (None if args.data else bundled_holdout_file())
    out = resolve_model_dir(args.out, environ)
    manifest = train(TrainingOptions(data=data, out=out, seed=args.seed, holdout=holdout),
                     progress=lambda line: print(line, file=sys.stderr, flush=True))
    print(f"model {manifest['name']} {manifest['version']} written to {out}")
    return 0


def _evaluate(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    from training.evaluate_cli import evaluate_files

    logs.configure("text", "warning")
    out = evaluate_files(resolve_model_dir(args.model, environ), [Path(p) for p in args.data],
                         Path(args.out) if args.out else None)
    print(f"report written to {out}")
    return 0


def _demo(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    from consumer.demo import run_demo

    config = build_config(vars(args), environ)
    logs.configure("text", config.log_level if args.log_level else "warning")
    return run_demo(config, kind=args.kind, feed=Path(args.feed) if args.feed else None)


def _broker(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    from consumer.local_broker import run_foreground

    logs.configure("text", "info")
    return run_foreground(args.kind, args.port)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="newsclf", description="Streaming news classifier for Kafka.")
    top.add_argument("--version", action="version", version=f"newsclf {__version__}")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="consume articles, classify, publish results (the service)")
    add_arguments(serve)
    serve.set_defaults(run=_serve)
    classify = commands.add_parser("classify", help="classify JSON lines from stdin or a file, no broker")
    add_arguments(classify, CLASSIFY_SETTINGS)
    classify.add_argument("--input", help="JSON-lines file (input contract) [default: stdin]")
    classify.add_argument("--text", help="classify this one article text")
    classify.set_defaults(run=_classify)
    train = commands.add_parser("train", help="train a model from labelled JSONL/CSV files")
    train.add_argument("--data", nargs="+", help="labelled files [default: the bundled corpus]")
    train.add_argument("--out", help="model directory [default: NEWSCLF_MODEL or ~/.local/share/newsclf/model]")
    train.add_argument("--seed", type=int, default=0, help="split and model seed [default: 0]")
    train.add_argument("--holdout", help="extra labelled file to report on, never trained on")
    train.set_defaults(run=_train)
    evaluate = commands.add_parser("evaluate", help="write a quality report of a model on labelled files")
    evaluate.add_argument("--model", help="model directory [default: NEWSCLF_MODEL or the default path]")
    evaluate.add_argument("--data", nargs="+", required=True, help="labelled JSONL/CSV files")
    evaluate.add_argument("--out", help="report directory [default: <model>/evaluation]")
    evaluate.set_defaults(run=_evaluate)
    demo = commands.add_parser("demo", help="local broker + service + sample feed, results as a table")
    add_arguments(demo, ("model", "metrics_port", "log_level"))
    demo.add_argument("--kind", choices=("tansu", "kafka"), default="tansu", help="local broker [default: tansu]")
    demo.add_argument("--feed", help="JSON-lines articles to publish [default: the bundled sample feed]")
    demo.set_defaults(run=_demo)
    broker = commands.add_parser("broker", help="run a local single-node broker in the foreground")
    broker.add_argument("--kind", choices=("tansu", "kafka"), default="tansu", help="[default: tansu]")
    broker.add_argument("--port", type=int, default=0, help="listener port [default: a free one]")
    broker.set_defaults(run=_broker)
    return top


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    environ = os.environ if environ is None else environ
    try:
        args = parser().parse_args(argv)
    except SystemExit as exc:  # argparse already printed its one-line usage error
        return int(exc.code or 0)
    run: Callable[[argparse.Namespace, Mapping[str, str]], int] = args.run
    try:
        return run(args, environ)
    except USER_ERRORS as exc:
        print(f"newsclf {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


__all__ = ["SETTINGS", "ServiceConfig", "main", "parser"]

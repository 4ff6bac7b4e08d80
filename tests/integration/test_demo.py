"""`newsclf demo` on Tansu: the seed stories stream through labelled, and SIGINT leaves nothing behind."""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from consumer.local_broker import free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


def descendants(pid: int) -> set[int]:
    children: dict[int, set[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, set()).add(int(entry.name))
    found, frontier = set(), [pid]
    while frontier:
        for child in children.get(frontier.pop(), ()):
            found.add(child)
            frontier.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_demo_labels_the_seed_stories_and_sigint_stops_everything(model_dir: Path, seed_stories) -> None:
    environment = {**os.environ, "NEWSCLF_MODEL": str(model_dir)}
    demo = subprocess.Popen([sys.executable, "-m", "consumer", "demo", "--metrics-port", str(free_port())],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=environment)
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(raw.decode()) for raw in demo.stdout or ()], daemon=True)
    reader.start()
    seen: list[str] = []
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not any(line.startswith("all ") for line in seen):
            with contextlib.suppress(queue.Empty):
                seen.append(lines.get(timeout=1))
            assert demo.poll() is None, "demo exited early:\n" + "".join(seen)
        lines_so_far = seen
        rows = {line.split()[0]: line.split() for line in lines_so_far if line.startswith("seed-")}
        for story in seed_stories:
            expected = story["expected"]
            row = rows[story["id"]]
            assert row[1] == expected["topic"], row
            assert row[3] in {expected["region"], *expected["region_also_acceptable"]}, row
        assert any("reason=missing_text" in line for line in lines_so_far)
        assert any("/metrics" in line for line in lines_so_far)
        started = descendants(demo.pid)
        assert len(started) >= 2, "the demo runs a broker and a serve process"
    finally:
        demo.send_signal(signal.SIGINT)
        demo.wait(60)
        reader.join(10)
        if demo.stdout is not None:
            demo.stdout.close()
    assert demo.returncode == 0, "".join(seen)
    assert not [pid for pid in started if alive(pid)], "processes left behind after SIGINT"

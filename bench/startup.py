"""Start-up benchmark: cold `tallyflow up`, warm `tallyflow up`, idle memory, `down` time.

Run: .venv/bin/python bench/startup.py   (uses a throw-away state directory and free ports)
Targets (2-core machine): cold up <= 60 s until every component is healthy; idle RSS <= 3 GB.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from tallyctl.stack.process import free_port_env


def start(env: dict[str, str]) -> tuple[subprocess.Popen, float]:
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "tallyctl", "up"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in proc.stdout:
        print("   ", line.rstrip())
        if line.startswith("Everything is up"):
            return proc, time.monotonic() - t0
    raise SystemExit("tallyflow up exited before it was up")


def stop(env: dict[str, str], proc: subprocess.Popen) -> float:
    t0 = time.monotonic()
    subprocess.run([sys.executable, "-m", "tallyctl", "down"], env=env, check=True,
                   capture_output=True)
    proc.wait()
    return time.monotonic() - t0


def stack_memory(home: Path) -> dict[str, tuple[int, int]]:
    """(USS, RSS) per component, over each component's whole process tree.

    USS counts memory private to each process; RSS also counts shared pages once per
    process (PostgreSQL's shared buffers, shared libraries), so its sum overstates.
    """
    state = json.loads((home / "run" / "stack.json").read_text())
    rss = {}
    for name, info in state["components"].items():
        root = psutil.Process(info["pid"])
        tree = [root, *root.children(recursive=True)]
        rss[name] = (sum(p.memory_full_info().uss for p in tree),
                     sum(p.memory_info().rss for p in tree))
    return rss


def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="tallyflow-bench-")) / "state"
    env = {**os.environ, **free_port_env(home)}
    print("cold start (empty state directory):")
    proc, cold = start(env)
    stop(env, proc)
    print("warm start (same state directory):")
    proc, warm = start(env)
    print("idling 60 s before measuring memory ...")
    time.sleep(60)
    memory = stack_memory(home)
    down = stop(env, proc)
    uss = sum(u for u, _ in memory.values())
    rss = sum(r for _, r in memory.values())
    print()
    print(f"cold up until all healthy : {cold:6.1f} s   (target <= 60 s)")
    print(f"warm up until all healthy : {warm:6.1f} s")
    print(f"down                      : {down:6.1f} s")
    for name, (u, r) in memory.items():
        print(f"  {name:22s}: USS {u / 2**20:6.0f} MiB, RSS {r / 2**20:6.0f} MiB")
    print(f"idle memory, USS summed   : {uss / 2**30:6.2f} GiB (target <= 3 GiB)")
    print(f"idle memory, RSS summed   : {rss / 2**30:6.2f} GiB (overstates shared pages)")


if __name__ == "__main__":
    main()

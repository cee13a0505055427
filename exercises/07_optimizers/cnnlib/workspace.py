"""The student workspace: JupyterLab on the exercises and chapters, your cnnlib importable, autoreload on.

    python -m cnnlib.workspace          # from the top folder of the student distribution
    make lab                            # the same, from the course repository

Every notebook of the workspace then imports YOUR package (the top folder is put on PYTHONPATH;
an assignment folder's own cnnlib/ still comes first there), and every kernel starts with
``%autoreload 2``, so a change to a .py file is used at the next run of a cell, without a restart.
The autoreload setting lives in the workspace's own IPython profile (``.ipython/``), so your
personal IPython settings are not changed.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

__all__ = ["KERNEL_CONFIG", "environment", "write_profile", "main"]

KERNEL_CONFIG = """\
# Written by cnnlib.workspace: every kernel of the workspace reloads edited modules before each cell.
c.InteractiveShellApp.extensions = ["autoreload"]
c.InteractiveShellApp.exec_lines = ["%autoreload 2"]
"""


def write_profile(root: Path) -> Path:
    """Write (or refresh) the workspace's IPython kernel config under root/.ipython; return the folder."""
    ipython_dir = Path(root) / ".ipython"
    config = ipython_dir / "profile_default" / "ipython_kernel_config.py"
    config.parent.mkdir(parents=True, exist_ok=True)
    if not config.exists() or config.read_text() != KERNEL_CONFIG:
        config.write_text(KERNEL_CONFIG)
    return ipython_dir


def environment(root: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for JupyterLab (and so its kernels) in the workspace at ``root``."""
    root = Path(root).resolve()
    env = dict(os.environ if base is None else base)
    env["PYTHONPATH"] = os.pathsep.join([str(root)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env["IPYTHONDIR"] = str(write_profile(root))
    return env


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    root = Path.cwd()
    if not (root / "exercises").is_dir():
        print(f"{root} has no exercises/ folder: run this from the top of the student distribution.",
              file=sys.stderr)
        return 2
    command = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={root}", *args]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers often run as root; Jupyter refuses without this
        command.append("--allow-root")
    print("Starting JupyterLab on", root, "(your cnnlib importable, %autoreload 2 on); Ctrl+C stops it.")
    return subprocess.call(command, env=environment(root))


if __name__ == "__main__":
    raise SystemExit(main())

"""Turns a plain Python process into the simulated Colab notebook before any snippet code runs
(imported by the harness's sitecustomize when the run is a Colab cell)."""

import builtins
import json
import os
import sys

from google.colab import _shell, userdata

_path = os.environ.pop("HUBCHECK_COLAB_SECRETS", None)
if _path:
    with open(_path, encoding="utf-8") as _file:
        _state = json.load(_file)
    os.remove(_path)
    userdata._SECRETS = dict(_state.get("secrets", {}))
    userdata._ACCESS = bool(_state.get("access", True))

_instance = _shell.Shell()
builtins.get_ipython = lambda: _instance

# A notebook's sys.argv is its kernel's command line, not the cell's: in Colab the kernel is started
# as `python .../colab_kernel_launcher.py -f .../kernel-<id>.json`. A script run inside the notebook
# (runpy.run_path) that read sys.argv[1] as its own argument would get "-f".
# The harness's own runner for a cell run twice (rerun_cell.py) still needs its arguments.
sys._hubcheck_harness_argv = list(sys.argv)
sys._hubcheck_kernel_argv = [
    "/usr/local/lib/python3.11/dist-packages/colab_kernel_launcher.py",
    "-f",
    "/root/.local/share/jupyter/runtime/kernel-00000000-0000-0000-0000-000000000000.json",
]
sys.argv = list(sys._hubcheck_kernel_argv)

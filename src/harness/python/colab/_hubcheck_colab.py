"""Turns a plain Python process into the simulated Colab notebook before any snippet code runs
(imported by the harness's sitecustomize when the run is a Colab cell)."""

import builtins
import json
import os

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

"""Prepares every Python process of a harness run before the snippet's code runs.

Python imports this module at start-up because the harness puts its folder first on PYTHONPATH.
"""

import os

import _hubcheck_network  # noqa: F401  refuses and records attempts to reach other hosts

# With the proxy isolation the harness sets proxy variables for programs that are not Python.
# Python is guarded by the audit hook above, so it sees no proxy and behaves as on a machine
# without network, the same under every isolation.
for _name in os.environ.pop("HUBCHECK_PROXY_VARS", "").split():
    os.environ.pop(_name, None)

if "HUBCHECK_COLAB_SECRETS" in os.environ:
    import _hubcheck_colab  # noqa: F401  the simulated Colab notebook

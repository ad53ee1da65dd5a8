"""The Secrets panel of the simulated Colab notebook (the key icon in Colab's left sidebar).

Where the texts come from: Google's own runtime package, `google/colab/userdata.py` in the
googlecolab/colabtools repository (read at commit 4b6f81bd). There, `get(key)` asks the notebook
front end for the secret and raises `SecretNotFoundError(key)` ("Secret {key} does not exist.",
a subclass of `google.colab.errors.Error`) when it does not exist, then `NotebookAccessError(key)`
("Notebook does not have access to secret {key}", a plain `Exception`) when the notebook was not
granted access, in that order; otherwise it returns the value. The class names, bases, messages
and that order are kept here; only the front end is replaced by the file the harness writes.
"""

import threading

from google.colab import errors

# Filled by _hubcheck_colab from the file the harness writes: {name: value} and whether the notebook
# was granted access ("Notebook access" switched on).
_SECRETS = {}
_ACCESS = True
_lock = threading.Lock()


class NotebookAccessError(Exception):
    """The notebook was not granted access to the secret."""

    def __init__(self, key):
        super().__init__(f"Notebook does not have access to secret {key}")


class SecretNotFoundError(errors.Error):
    """No secret has this name."""

    def __init__(self, key):
        super().__init__(f"Secret {key} does not exist.")


def get(key):
    """Returns the value of the secret named `key`, as Colab's `userdata.get` does."""
    with _lock:
        if key not in _SECRETS:
            raise SecretNotFoundError(key)
        if not _ACCESS:
            raise NotebookAccessError(key)
        return _SECRETS[key]

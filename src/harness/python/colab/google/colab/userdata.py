"""The Secrets panel of the simulated Colab notebook (the key icon in Colab's left sidebar)."""

import threading

from google.colab import errors

# Filled by sitecustomize from the file the harness writes: {name: value} and whether the notebook
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

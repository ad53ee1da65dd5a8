"""Errors of the simulated Colab runtime; Colab's own `google.colab.errors.Error` is their base."""


class Error(Exception):
    """Base class of Colab's errors."""

"""A stand-in for Google Colab's `google.colab` package, written for mdbook-hubcheck's harness.

Google Colab cannot run offline, so the harness simulates the one part of it the handbook uses:
`google.colab.userdata`, the notebook's Secrets panel. It behaves as Colab's does: `get(key)`
returns the secret's value, raises `SecretNotFoundError` when no secret has that name, and
`NotebookAccessError` when the notebook was not granted access to it.
"""

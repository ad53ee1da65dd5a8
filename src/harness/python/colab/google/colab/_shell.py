"""The simulated notebook shell. `str(get_ipython())` names this module, as in Colab, which is
how huggingface_hub recognises that it runs inside Colab."""


class Shell:
    """What `get_ipython()` returns inside the simulated Colab notebook."""

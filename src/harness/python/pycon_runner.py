"""Runs a `>>>` session the way Hugging Face's docs write them, with doctest: every statement is
executed and every printed result is compared with what the session shows."""

import doctest
import sys

path = sys.argv[1]
with open(path, encoding="utf-8") as file:
    text = file.read()
test = doctest.DocTestParser().get_doctest(text, {"__name__": "__main__"}, "snippet", path, 0)
runner = doctest.DocTestRunner(
    optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
)
runner.run(test)
result = runner.summarize(verbose=False)
sys.exit(1 if result.failed else 0)

#!/usr/bin/env python3
"""Tries every link to another site that the handbook's build listed (target/hubcheck/external-links.json,
written by the preprocessor's link check). The weekly drift job runs it; tests never do, since they
have no network. Prints one line per link that does not answer with a success or a redirect, with the
file and line it is written at, and exits 1 when there is one.

Usage: scripts/check-external-links.py [target/hubcheck/external-links.json]
"""
import json
import sys
import urllib.error
import urllib.request

TIMEOUT = 20


def status_of(url):
    """The HTTP status of `url` (HEAD, then GET for servers that refuse HEAD), or the error."""
    for method in ("HEAD", "GET"):
        request = urllib.request.Request(url, method=method, headers={"User-Agent": "mdbook-hubcheck link check"})
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                return response.status, None
        except urllib.error.HTTPError as error:
            if method == "HEAD" and error.code in (403, 405, 501):
                continue
            return error.code, None
        except (urllib.error.URLError, OSError) as error:
            return None, str(error)
    return None, "no answer"


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "target/hubcheck/external-links.json"
    with open(path, encoding="utf-8") as handle:
        links = json.load(handle)
    seen = {}
    broken = 0
    for link in links:
        url = link["url"]
        if url not in seen:
            seen[url] = status_of(url)
        status, error = seen[url]
        if status is None or status >= 400:
            broken += 1
            print(f"{link['file']}:{link['line']}: {url}: {error or status}")
    print(f"{len(seen)} external address(es) tried, {broken} link(s) broken")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())

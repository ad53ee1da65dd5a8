"""Refuses and records every attempt of this process to reach a host other than this machine.

An audit hook (PEP 578) sees name lookups and connections before the operating system does. A
lookup of another host's name fails as it does on a machine without network (`socket.gaierror`,
"Name or service not known"); a connection to another address fails with "Network is
unreachable". Each attempt is appended as one JSON line to the file named by
HUBCHECK_NETWORK_LOG, which the harness reads after the run. Loopback addresses, `localhost`
and Unix sockets are allowed: the mock Hub is there. Under the real addresses the names listed
in HUBCHECK_HUB_HOSTS (huggingface.co, router.huggingface.co) are allowed too: the scenario's
/etc/hosts sends them to the mock Hub on a loopback address, which the connection check allows.
"""

import errno
import ipaddress
import json
import os
import socket
import sys

_LOCAL_NAMES = {"", "localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
_INET = (socket.AF_INET, socket.AF_INET6)


def _text(host):
    if isinstance(host, bytes):
        return host.decode("ascii", "replace")
    return str(host)


def _address(host):
    """The IP address `host` spells, or None for a name."""
    try:
        return ipaddress.ip_address(_text(host).strip("[]").split("%")[0])
    except ValueError:
        return None


def _is_local_name(host):
    return host is None or _text(host).strip("[]").lower() in _LOCAL_NAMES


def _is_hub_name(host):
    # Read at each attempt, like the log's path: a warm interpreter's children each have theirs.
    names = os.environ.get("HUBCHECK_HUB_HOSTS", "").split()
    return host is not None and _text(host).rstrip(".").lower() in names


def _is_local_address(ip):
    return ip.is_loopback or ip.is_unspecified


def _record(host, port, via):
    # Read at each attempt: a warm interpreter's children each have their own log.
    log_path = os.environ.get("HUBCHECK_NETWORK_LOG")
    if not log_path:
        return
    try:
        port = int(port) if port not in (None, "") else None
    except (TypeError, ValueError):
        port = None
    try:
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(json.dumps({"host": _text(host), "port": port, "via": via}) + "\n")
    except OSError:
        pass


def _refuse_lookup(host, port):
    if _is_local_name(host) or _is_hub_name(host) or _address(host) is not None:
        return  # a literal address needs no lookup: its connection is checked instead
    _record(host, port, "name lookup")
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def _refuse_connection(sock, address):
    if getattr(sock, "family", None) not in _INET or not isinstance(address, tuple):
        return
    host, port = address[0], address[1]
    ip = _address(host)
    if ip is None:
        if _is_local_name(host) or _is_hub_name(host):
            return
    elif _is_local_address(ip):
        return
    _record(host, port, "connection")
    raise OSError(errno.ENETUNREACH, "Network is unreachable")


def _hook(event, args):
    if not event.startswith("socket."):
        return
    if event == "socket.getaddrinfo":
        _refuse_lookup(args[0], args[1])
    elif event in ("socket.gethostbyname", "socket.gethostbyname_ex"):
        _refuse_lookup(args[0], None)
    elif event in ("socket.connect", "socket.sendto"):
        _refuse_connection(args[0], args[1])


sys.addaudithook(_hook)

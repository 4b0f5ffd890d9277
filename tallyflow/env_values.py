"""How each kind of setting is read from the environment: every reader names its variable
in each error and says what was expected (``tallyflow.settings`` puts them together)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

_TOPIC_NAME = re.compile(r"^[A-Za-z0-9._-]{1,249}$")
_HOST_PORT = re.compile(r"^[A-Za-z0-9._-]+:\d{1,5}$")


class SettingsError(ValueError):
    """A setting has a value Tallyflow cannot use. The message names the variable."""


def redact(url: str) -> str:
    """The URL with any password replaced by ***, safe to print."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _postgres_url(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    if not value:
        return None
    parts = urlsplit(value)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme not in ("postgresql", "postgres") or not parts.hostname or port == -1:
        raise SettingsError(
            f"{name}={redact(value)!r} is not a PostgreSQL URL: expected "
            f"postgresql://USER:PASSWORD@HOST:PORT/DATABASE"
        )
    if not parts.path.strip("/"):
        raise SettingsError(f"{name}={redact(value)!r} names no database: add /DATABASE")
    return value


def _bootstrap(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    if not value:
        return None
    servers = [s.strip() for s in value.split(",")]
    for server in servers:
        if not _HOST_PORT.match(server) or not 0 < int(server.rsplit(":", 1)[1]) < 65536:
            raise SettingsError(
                f"{name}={value!r} is not a Kafka bootstrap list: expected HOST:PORT[,HOST:PORT...]"
            )
    return ",".join(servers)


def _spark_remote(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    if not value:
        return None
    parts = urlsplit(value)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme != "sc" or not parts.hostname or port == -1:
        raise SettingsError(f"{name}={value!r} is not a Spark Connect URL: expected sc://HOST:PORT")
    return value


def _int(env: Mapping[str, str], name: str, default: int, *, lo: int, hi: int) -> int:
    return _number(env, name, default, int, "a whole number", lo, hi)


def _float(env: Mapping[str, str], name: str, default: float, *, lo: float,
           hi: float) -> float:
    return _number(env, name, default, float, "a number", lo, hi)


def _number(env: Mapping[str, str], name: str, default, parse, kind: str, lo, hi):
    """``parse(env[name])`` within lo..hi, ``default`` when unset; errors name the variable."""
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = parse(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not {kind}") from None
    if not lo <= value <= hi:
        bounds = (f"{b:g}" if isinstance(b, float) else str(b) for b in (lo, hi))
        raise SettingsError(f"{name}={raw!r} is out of range: expected {'..'.join(bounds)}")
    return value


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    """One of ``choices``; the first is the default."""
    value = env.get(name) or choices[0]
    if value not in choices:
        raise SettingsError(f"{name}={value!r} is not one of: {', '.join(choices)}")
    return value


def _topic(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name) or default
    if not _TOPIC_NAME.match(value) or value in (".", ".."):
        raise SettingsError(
            f"{name}={value!r} is not a valid Kafka topic name: use letters, digits, '.', '_', '-'"
        )
    return value


def _memory(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name) or default
    if not re.fullmatch(r"\d+[kmgKMG]", value):
        raise SettingsError(f"{name}={value!r} is not a JVM memory size: expected e.g. 512m or 2g")
    return value


def networks(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """A comma-separated list of IP addresses or CIDR networks (empty when unset), each
    checked and written as ``ipaddress`` writes it."""
    import ipaddress

    found = []
    for item in (env.get(name) or "").split(","):
        item = item.strip()
        if not item:
            continue
        try:
            found.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise SettingsError(f"{name}: {item!r} is not an IP address or network "
                                "(e.g. 127.0.0.1 or 10.0.0.0/8)") from None
    return tuple(found)

#!/usr/bin/env python3
"""Check that no published result of an election was changed or removed afterwards.

    python3 verify_feed.py SITE_URL ELECTION_ID [--expect VERSION:CHAIN_SHA256]

Needs nothing but Python 3. It downloads every published version of the election's
results (``/api/v1/elections/ID/feed`` and ``.../feed/VERSION``) and recomputes, for each:

    content_sha256 = SHA-256 of the version's bytes, exactly as served
    chain_sha256   = SHA-256 of the text previous_chain_sha256 + content_sha256
                     (64 zeros before version 1)

Each version must follow the one before, with no gap. If the election is certified, the
certificate's ``published_feed`` link must be in the chain. ``--expect`` checks a link you
kept yourself earlier (a newsroom that saved the ``X-Feed-Chain-SHA256`` header of version
120 passes ``--expect 120:<hash>``). Exit status 0: the history holds; 1: it does not.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import urllib.error
import urllib.request

GENESIS = "0" * 64


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return answer.read()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def verify(site: str, election_id: str, expected: dict[int, str]) -> list[str]:
    base = f"{site.rstrip('/')}/api/v1/elections/{election_id}"
    versions = json.loads(fetch(f"{base}/feed"))["versions"]
    problems, previous, chain = [], GENESIS, {}
    for number, listed in enumerate(versions, start=1):
        version = listed["version"]
        if version != number:
            problems.append(f"version {number} is missing")
        content = fetch(f"{base}/feed/{version}")
        content_sha = sha256(content)
        if content_sha != listed["content_sha256"]:
            problems.append(f"version {version}: its content does not match its hash")
        if listed["previous_sha256"] != previous:
            problems.append(f"version {version}: does not follow version {version - 1}")
        linked = sha256((previous + content_sha).encode())
        if linked != listed["chain_sha256"]:
            problems.append(f"version {version}: chain hash {listed['chain_sha256']} should "
                            f"be {linked}")
        chain[version] = previous = linked
        print(f"version {version}: chain {linked}", file=sys.stderr)
    try:
        certificate = json.loads(fetch(f"{base}/certificate"))
    except urllib.error.HTTPError as error:
        if error.code != 404:
            raise
        certificate = None
    if certificate and certificate.get("published_feed"):
        link = certificate["published_feed"]
        expected = {**expected, link["version"]: link["chain_sha256"]}
    for version, wanted in sorted(expected.items()):
        if chain.get(version) != wanted:
            problems.append(f"version {version}: the chain has {chain.get(version)}, the "
                            f"link kept says {wanted}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", help="the results site, e.g. https://results.example.org")
    parser.add_argument("election_id")
    parser.add_argument("--expect", action="append", default=[],
                        metavar="VERSION:CHAIN_SHA256", help="a link you kept earlier")
    args = parser.parse_args()
    expected = {}
    for kept in args.expect:
        version, _, chain = kept.partition(":")
        if not version.isdigit() or len(chain) != 64:
            parser.error(f"--expect {kept!r}: give VERSION:CHAIN_SHA256")
        expected[int(version)] = chain
    problems = verify(args.site, args.election_id, expected)
    for problem in problems:
        print(f"BROKEN: {problem}")
    if not problems:
        print(f"OK: every published version of {args.election_id} is intact")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

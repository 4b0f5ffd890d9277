"""Writes an RCTab test case's ES&S spreadsheet of cast vote records as RCTab's CVR CSV
layout (see README.md): ``python ess_to_csv.py CONFIG.json XLSX > cvr.csv``.

The configuration's source says where the rankings start (``firstVoteColumnIndex``,
``firstVoteRowIndex``, 1-based), how an overvote and a skipped rank are written, and the
delimiter of several candidates in one cell; ``maxRankingsAllowed`` how many ranks there are.
"""

from __future__ import annotations

import csv
import json
import re
import sys
import zipfile
from pathlib import Path
from xml.etree import ElementTree

from cdf_to_csv import FIXED

SHEET = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def cells(path: Path) -> dict[int, dict[int, str]]:
    """{row: {column: text}} of the first sheet, both 1-based."""
    with zipfile.ZipFile(path) as book:
        shared = []
        if "xl/sharedStrings.xml" in book.namelist():
            for item in ElementTree.fromstring(book.read("xl/sharedStrings.xml")):
                shared.append("".join(t.text or "" for t in item.iter(f"{SHEET}t")))
        sheet = ElementTree.fromstring(book.read("xl/worksheets/sheet1.xml"))
    rows: dict[int, dict[int, str]] = {}
    for row in sheet.iter(f"{SHEET}row"):
        for cell in row.iter(f"{SHEET}c"):
            letters = re.match(r"[A-Z]+", cell.get("r")).group(0)
            column = 0
            for letter in letters:
                column = column * 26 + ord(letter) - 64
            value = cell.find(f"{SHEET}v")
            kind = cell.get("t")
            if kind == "s":
                text = shared[int(value.text)]
            elif kind == "inlineStr":
                text = "".join(t.text or "" for t in cell.iter(f"{SHEET}t"))
            else:
                text = value.text if value is not None else ""
            rows.setdefault(int(row.get("r")), {})[column] = text or ""
    return rows


def main(config_path: str, xlsx: str) -> None:
    config = json.loads(Path(config_path).read_text(encoding="utf-8"))
    source = config["cvrFileSources"][0]
    first_column = int(source["firstVoteColumnIndex"])
    first_row = int(source["firstVoteRowIndex"])
    most = config["rules"]["maxRankingsAllowed"]
    ranks = len(config["candidates"]) if most == "max" else int(most)
    overvote, skipped = source.get("overvoteLabel") or None, source.get("skippedRankLabel")
    delimiter = source.get("overvoteDelimiter") or None
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(FIXED + [f"Rank {n}" for n in range(1, ranks + 1)])
    for number, row in sorted(cells(Path(xlsx)).items()):
        if number < first_row:
            continue
        out = []
        for rank in range(ranks):
            text = row.get(first_column + rank, "").strip()
            if text == "" or text == skipped:
                out.append("undervote")
            elif overvote and text == overvote:
                out.append("overvote")
            elif delimiter and delimiter in text:
                out.append("\n".join(n.strip() for n in text.split(delimiter)))
            else:
                out.append(text)
        writer.writerow([Path(xlsx).name, "ess", "", str(number), "", "", "", "", ""] + out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

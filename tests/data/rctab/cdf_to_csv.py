"""Writes an RCTab test case's CDF JSON cast vote records as RCTab's CVR CSV layout.

How the CSV files here were made from RCTab's published test cases (see README.md):
``python cdf_to_csv.py CASE_cvr.json > CASE_cvr.csv``. Each ballot's current snapshot
gives, for each rank, the candidates marked there (several: an overvote); a rank with
none is ``undervote``.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

FIXED = ["Source Filepath", "CVR Provider", "Contest Id", "RCTab CVR Id", "Tabulator Id",
         "Batch Id", "Vendor Id", "Precinct", "Precinct Portion"]


def ballots(path: Path) -> list[tuple[str, list[list[str]]]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    election = data["Election"][0]
    names = {c["@id"]: c["Name"] for c in election.get("Candidate", [])}
    selections = {s["@id"]: names[s["CandidateIds"][0]]
                  for contest in election["Contest"] for s in contest["ContestSelection"]}
    found = []
    for number, record in enumerate(data["CVR"], start=1):
        snapshot = next(s for s in record["CVRSnapshot"]
                        if s["@id"] == record["CurrentSnapshotId"])
        ranks: dict[int, list[str]] = {}
        for contest in snapshot.get("CVRContest", []):
            for selection in contest.get("CVRContestSelection", []):
                for position in selection.get("SelectionPosition", []):
                    if position.get("HasIndication", "yes") == "yes":
                        ranks.setdefault(int(position["Rank"]), []).append(
                            selections[selection["ContestSelectionId"]])
        top = max(ranks, default=0)
        found.append((str(number), [ranks.get(rank, []) for rank in range(1, top + 1)]))
    return found


def main(path: str) -> None:
    rows = ballots(Path(path))
    width = max((len(r) for _id, r in rows), default=1)
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(FIXED + [f"Rank {n}" for n in range(1, width + 1)])
    for ballot_id, ranking in rows:
        cells = ["\n".join(marks) if marks else "undervote" for marks in ranking]
        writer.writerow([Path(path).name, "cdf", "", ballot_id, "", "", "", "", ""]
                        + cells + ["undervote"] * (width - len(cells)))


if __name__ == "__main__":
    main(sys.argv[1])

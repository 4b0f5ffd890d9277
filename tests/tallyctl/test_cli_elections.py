"""`tallyflow election ...` and `tallyflow registrations ...` as an administrator uses them."""

from __future__ import annotations

import uuid

import pytest

from tallyctl.cli import main
from tests.conftest import REPO_ROOT

EXAMPLES = REPO_ROOT / "examples" / "elections"


@pytest.fixture
def election_id() -> str:
    return f"cli-{uuid.uuid4().hex[:10]}"


def test_create_seed_validate_list_show_and_open(services_env, election_id, tmp_path, capsys):
    credentials = tmp_path / "credentials.csv"

    create = ["election", "create", str(EXAMPLES / "general-election.json"), "--id",
              election_id, "--opens-at", "now", "--closes-at", "+2h", "--voters", "800",
              "--seed", "9", "--credentials-out", str(credentials)]
    # Plaintext credentials only for a test election: nothing is created otherwise.
    assert main(create) == 2
    assert "is not in test mode" in capsys.readouterr().err
    assert not credentials.exists()
    assert main(["election", "show", election_id]) != 0
    capsys.readouterr()

    code = main([*create, "--test-mode"])

    out = capsys.readouterr().out
    assert code == 0, out
    assert f"created election '{election_id}' (General Election 2027) as a draft" in out
    assert "registered 800 synthetic voters" in out
    assert "| voters     | passed | 800" in out
    assert "scheduled: it opens at" in out
    assert len(credentials.read_text().splitlines()) == 801
    assert b"\r" not in credentials.read_bytes()  # plain lines, for cut and friends

    assert main(["election", "list"]) == 0
    listing = capsys.readouterr().out
    row = next(line for line in listing.splitlines() if election_id in line)
    assert "scheduled" in row and "800" in row and "passed" in row

    assert main(["election", "show", election_id]) == 0
    shown = capsys.readouterr().out
    assert "County Council (vote for up to 2) [plurality, 2 seats]" in shown
    assert "  - Hana Ito (civic)" in shown
    assert "ready to open" in shown

    assert main(["election", "open", election_id]) == 0
    assert "voter roll fingerprint" in capsys.readouterr().out

    assert main(["certify", "--election", election_id]) == 0
    certified = capsys.readouterr()
    assert f"{election_id} certified: sha256 " in certified.out
    assert "json: " in certified.out and "reconciled: every check holds" in certified.err
    assert main(["certify", "--election", election_id]) == 0
    assert "was already certified" in capsys.readouterr().out


def test_a_bad_definition_lists_every_problem_and_exits_2(services_env, tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text((EXAMPLES / "city-referendum.yaml").read_text()
                    .replace("threshold: \"2/3\"", "threshold: \"3/2\"")
                    .replace("id: riverside-tram-referendum", "id: Riverside"))

    assert main(["election", "create", str(path)]) == 2

    err = capsys.readouterr().err
    assert f"tallyflow: {path}: 2 problems" in err
    assert "  - id: 'Riverside' is not an id: use lowercase letters, digits and hyphens" in err
    assert "  - contests[0].threshold: '3/2' is not a share in (0, 1]" in err


def test_import_reports_quarantined_lines_and_fails(services_env, election_id, tmp_path, capsys):
    assert main(["election", "create", str(EXAMPLES / "three-parties.json"),
                 "--id", election_id]) == 0
    roll = tmp_path / "voters.csv"
    roll.write_text("voter_id,full_name,birth_date,gender,region_id,registered_on\n"
                    "A1,Ann Lee,1980-01-01,female,north-1,2001-01-01\n"
                    "A2,Bob Ray,1981-01-01,male,mars,2001-01-01\n")

    code = main(["registrations", "import", "--election", election_id, str(roll)])

    out = capsys.readouterr().out
    assert code == 1
    assert "loaded 1 voters from voters.csv; quarantined 1 row(s)" in out
    assert "  line 3: region_id 'mars' is not a precinct of this election" in out


def test_unknown_elections_are_named(services_env, capsys):
    assert main(["election", "show", "no-such-election"]) == 2
    assert "tallyflow: no election with id 'no-such-election'" in capsys.readouterr().err
    assert main(["registrations", "seed", "--election", "no-such-election", "--voters", "5"]) == 2
    assert "no election with id 'no-such-election'" in capsys.readouterr().err
    assert main(["certify", "--election", "no-such-election"]) == 2
    assert "no election with id 'no-such-election'" in capsys.readouterr().err

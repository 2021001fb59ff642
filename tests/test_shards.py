"""``report --shard I/N`` then ``report --merge``: the four reports a single run writes,
byte for byte, from records read back with the standard JSON loader."""

import json
from pathlib import Path

import pytest

from compare import batch
from compare.cli import main
from compare.jobs import result_from_json, result_to_json
from compare.records import ModelResult, Parity, Status

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "compare" / "catalog"
FILES = ("report.md", "report.html", "report.csv", "report.json")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One single run and one run in 3 shards + merge of the same batch: catalogue
    files with graphs, unsupported layers and named differences, plus an invalid model."""
    tmp = tmp_path_factory.mktemp("shards")
    bad = tmp / "bad.toml"
    bad.write_text(
        '[[models]]\nname = "broken"\ninput = {channels = 3, size = [8, 8]}\n'
        'layers = [{kind = "conv", filters = 0, kernel_size = 3}]\n'
    )
    specs = [str(CATALOG / "differences.toml"), str(bad), str(CATALOG / "graphs.toml")]
    codes = {"single": main(["report", *specs, "-o", str(tmp / "single")])}
    for i in (1, 2, 3):
        codes[i] = main(["report", *specs, "--shard", f"{i}/3", "-o", str(tmp / f"job{i}")])
    records = [tmp / f"job{i}" / f"shard-{i}-of-3.json" for i in (3, 1, 2)]  # any order
    codes["merge"] = main(["report", "--merge", *map(str, records), "-o", str(tmp / "merged")])
    return tmp, codes, records


def test_merged_reports_are_byte_identical_to_a_single_run(runs):
    tmp, codes, _ = runs
    for name in FILES:
        single = (tmp / "single" / name).read_bytes()
        assert (tmp / "merged" / name).read_bytes() == single, name
    # the batch holds an invalid model: both runs fail the same way
    assert codes["single"] == codes["merge"] == 1


def test_each_shard_compares_only_its_slice(runs):
    tmp, _, records = runs
    single = json.loads((tmp / "single" / "report.json").read_text())
    names = [m["name"] for m in single["models"]]
    total = len(names)
    assert total == 11 + 1 + 5  # the files' models, counted by hand
    for path in records:
        doc = json.loads(path.read_text())
        index, count = doc["shard"]
        assert count == 3
        # round robin, stated independently of shard_indices: every 3rd from index - 1
        expected = [p for p in range(total) if p % 3 == index - 1]
        assert [e["position"] for e in doc["results"]] == expected
        assert [e["result"]["fields"]["name"] for e in doc["results"]] == [
            names[p] for p in expected
        ]


def test_records_round_trip_every_field(runs):
    _, _, records = runs
    for path in records:
        for entry in json.loads(path.read_text())["results"]:
            result = result_from_json(entry["result"])
            assert isinstance(result, ModelResult)
            assert result_to_json(result) == entry["result"]


def test_non_finite_errors_and_tuples_survive():
    r = ModelResult("m", {"size": (8, 8)}, (), Parity(Status.MISMATCH, float("inf"), float("nan")))
    back = result_from_json(json.loads(json.dumps(result_to_json(r), allow_nan=False)))
    assert back.input == {"size": (8, 8)} and back.parity.max_abs_err == float("inf")
    assert back.parity.max_rel_err != back.parity.max_rel_err  # nan
    assert back.parity.status is Status.MISMATCH


def test_a_record_naming_another_class_is_refused():
    with pytest.raises(ValueError, match="unknown record type 'Path'"):
        result_from_json({"record": "Path", "fields": {"x": "/"}})


def _write_shards(tmp, count, total=3, sources=("a.toml",), skip=()):
    paths = []
    for i in range(1, count + 1):
        if i in skip:
            continue
        pos = list(range(i - 1, total, count))
        results = [ModelResult(f"m{p}", None, (), error="boom") for p in pos]
        text = batch.shard_record(
            results, pos, shard=(i, count), total=total, sources=list(sources), options={}
        )
        path = tmp / batch.shard_name(i, count)
        path.write_text(text)
        paths.append(str(path))
    return paths


def test_a_missing_shard_is_named(tmp_path, capsys):
    paths = _write_shards(tmp_path, 3, skip=(2,))
    assert main(["report", "--merge", *paths, "-o", str(tmp_path / "out")]) == 2
    assert "shard(s) 2/3 missing" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_shard_given_twice_is_named(tmp_path, capsys):
    paths = _write_shards(tmp_path, 2)
    assert main(["report", "--merge", *paths, paths[0], "-o", str(tmp_path / "out")]) == 2
    assert "shard 1/2 given twice" in capsys.readouterr().err


def test_shards_of_another_batch_are_refused(tmp_path, capsys):
    one = _write_shards(tmp_path, 2)[:1]
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    two = _write_shards(other_dir, 2, sources=("b.toml",))[1:]
    assert main(["report", "--merge", *one, *two, "-o", str(tmp_path / "out")]) == 2
    assert "sources differs" in capsys.readouterr().err


def test_a_file_that_is_not_a_record(tmp_path, capsys):
    path = tmp_path / "x.json"
    path.write_text('{"models": [], "x": NaN}')
    assert main(["report", "--merge", str(path)]) == 2
    assert "x.json: not a shard record" in capsys.readouterr().err


@pytest.mark.parametrize("bad", ["0/3", "4/3", "1/0", "a/b", "2"])
def test_bad_shard_option_is_a_usage_error(bad, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["report", "--shard", bad])
    assert exc.value.code == 2
    assert f"--shard={bad!r}: must be I/N with 1 <= I <= N" in capsys.readouterr().err


def test_merge_takes_no_spec_files(tmp_path, capsys):
    paths = _write_shards(tmp_path, 1)
    assert main(["report", "a.toml", "--merge", *paths]) == 2
    assert "--merge takes shard record files only" in capsys.readouterr().err

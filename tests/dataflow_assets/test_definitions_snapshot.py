"""A snapshot of the shipped definitions: every asset's key, group, description and code version, and its checks.

A renamed asset, a changed description or a parameter change that moves a code version shows up here in review.
After an intended change, regenerate with ``DATAFLOW_UPDATE_SNAPSHOTS=1 pytest tests/dataflow_assets/
test_definitions_snapshot.py`` and commit the file.
"""

import json
import os
from pathlib import Path

import dagster as dg

from dataflow_assets.definitions import compile_discovered

SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions.json"
REPO = Path(__file__).resolve().parents[2]


def shipped_definitions() -> dict[str, dict[str, object]]:
    built = compile_discovered()
    assert not built.problems, [p.line() for p in built.problems]
    snapshot: dict[str, dict[str, object]] = {}
    for compiled in built.compiled:
        checks: dict[str, list[str]] = {}
        for definition in compiled.checks:
            for key in definition.check_keys:
                checks.setdefault(key.asset_key.to_user_string(), []).append(key.name)
        for asset in compiled.assets:
            key = asset.key
            description = str(asset.descriptions_by_key.get(key)).replace(str(REPO), "<repo>")
            # A source's code version hashes its absolute path, which differs between checkouts.
            is_source = description.startswith("source:")
            snapshot[key.to_user_string()] = {
                "group": asset.group_names_by_key[key],
                "description": description,
                "code_version": "(hash of the source path)" if is_source else asset.code_versions_by_key.get(key),
                "partitioned": asset.partitions_def is not None,
                "checks": sorted(checks.get(key.to_user_string(), [])),
            }
    return dict(sorted(snapshot.items()))


def test_shipped_definitions_match_the_snapshot():
    current = shipped_definitions()
    if os.environ.get("DATAFLOW_UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(json.dumps(current, indent=2, ensure_ascii=False) + "\n")
    assert current == json.loads(SNAPSHOT.read_text())


def test_each_step_is_described_by_its_own_operator():
    current = shipped_definitions()
    assert current["text_pretrain/dedup"]["description"].startswith("filter · minhash_dedup: ")
    assert current["text_pretrain/raw"]["description"].startswith("source: *.jsonl in ")
    descriptions = [entry["description"] for entry in current.values()]
    assert not any("bound operator" in str(d).lower() for d in descriptions)
    assert all(dg.AssetKey.from_user_string(key) for key in current)

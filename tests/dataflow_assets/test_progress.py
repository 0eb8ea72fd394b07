"""Long steps say how far they are: rows done of total, rate and errors, in the CLI and in the Dagster run log,
here with the embedded model answering for real."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

pytestmark = [pytest.mark.llm, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]

PIPELINE = """
from pathlib import Path

from operators import FileSource, Pipeline, PromptTemplate
from operators.general.generate.prompted_generator import PromptedGenerator

ASK = PromptTemplate(name="one_word", version="1", template="Say one word about {{ text }}.")


class Chatter(Pipeline):
    group = "chatter"

    def __init__(self, data_dir=Path(__file__).parent / "data"):
        super().__init__()
        self.raw = FileSource(path=str(data_dir), pattern="*.jsonl", columns={"text": "string"})
        self.said = PromptedGenerator(prompt=ASK, max_tokens=4)

    def forward(self):
        return self.said(self.raw(), output_key="word")
"""


@pytest.fixture
def plugin(tmp_path) -> Path:
    folder = tmp_path / "plugin" / "dataflow_assets" / "chatter"
    (folder / "data").mkdir(parents=True)
    (folder / "__init__.py").write_text("")
    (folder / "pipeline.py").write_text(PIPELINE)
    (folder / "data" / "topics.jsonl").write_text("".join(f'{{"text": "topic {i}"}}\n' for i in range(4)))
    return tmp_path / "plugin"


def test_cli_and_run_log_show_progress_of_an_llm_step(plugin, tmp_path):
    home = tmp_path / "home"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(plugin), str(REPO)]),
        "DAGSTER_HOME": str(home),
        "DATAFLOW_DATA_ROOT": str(tmp_path / "delta"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "dataflow_assets.cli", "run", "chatter"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    progress = [line for line in result.stdout.splitlines() if "rows/s" in line]
    assert progress, result.stdout
    assert "llm llama.cpp:SmolLM2" in progress[-1] and "4/4 rows (100%)" in progress[-1]
    assert "0 error(s)" in progress[-1]

    instance = dg.DagsterInstance.from_config(str(home))
    run = instance.get_runs(limit=1)[0]
    messages = [e.user_message for e in instance.all_logs(run.run_id) if "rows/s" in (e.user_message or "")]
    assert any(m.startswith("chatter/said: llm llama.cpp:SmolLM2") and "4/4 rows" in m for m in messages), messages

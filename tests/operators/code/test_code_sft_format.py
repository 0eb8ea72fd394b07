"""code_sft_format: chat messages with the code in a Markdown block."""

from operators.code.refine.code_sft_format import CodeSftFormatRefiner
from tests.support import frame


def test_messages():
    df = frame(["def f():\n    return 1"], column="code", instruction=["Return one."])
    messages = CodeSftFormatRefiner(system="You write Python.").run(df).kept["messages"].to_list()
    assert messages == [
        [
            {"role": "system", "content": "You write Python."},
            {"role": "user", "content": "Return one."},
            {"role": "assistant", "content": "```python\ndef f():\n    return 1\n```"},
        ]
    ]

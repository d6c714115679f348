"""The run directory contract's pure helpers."""

import pytest

from mantle.rundir import script_argv


def test_script_argv_fills_python_and_the_pipeline_checkout():
    command = ["{python}", "-m", "tool", "--config={pipeline}/conf.yml"]
    assert script_argv(command, "/py", "/ckout") == [
        "/py",
        "-m",
        "tool",
        "--config=/ckout/conf.yml",
    ]


def test_script_argv_refuses_a_checkout_placeholder_without_a_checkout():
    with pytest.raises(ValueError, match="no repository"):
        script_argv(["{pipeline}/run.sh"], "/py")

"""What an import spec may contain, checked with no I/O: RE2 patterns (linear-time matching,
so a catastrophic pattern cannot freeze the server), plain `{field}` templates only, and the
plan built from a spec."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from mantle import import_syntax
from mantle.catalog.import_plan import ImportPlan
from mantle.errors import InvalidInputError
from mantle.schemas.catalog import PropertyDef, PropertyType
from mantle.schemas.imports import ImportCreate, ImportSpec

CATASTROPHIC = r"(?P<sample>(a+)+$)"  # exponential in a backtracking engine


def spec(**extra) -> dict:
    return {
        "bucket": "lab-raw",
        "data_type": "fastq_pair",
        "patterns": {"read1": r"(?P<sample>[^/]+)_R1\.fq$", "read2": r"(?P<sample>[^/]+)_R2\.fq$"},
        **extra,
    }


def refusal(**extra) -> str:
    with pytest.raises(ValidationError) as caught:
        ImportCreate.model_validate(spec(**extra))
    return str(caught.value)


@pytest.mark.timeout(20)
def test_catastrophic_pattern_on_a_long_key_returns():
    pattern = import_syntax.compile_pattern(CATASTROPHIC)
    crafted = "a" * 50_000 + "!"
    assert pattern.search(crafted) is None
    assert pattern.search("a" * 50_000).group("sample") == "a" * 50_000


@pytest.mark.timeout(20)
def test_plan_matches_crafted_keys_promptly():
    plan = ImportPlan(
        ImportCreate.model_validate(spec(patterns={"files": CATASTROPHIC})),
        [PropertyDef(name="sample", type=PropertyType.string)],
    )
    longest = "a" * import_syntax.MAX_KEY_CHARS
    assert plan.match(longest[:-1] + "!", 1, "e") is None
    assert plan.match(longest, 1, "e").fields == {"sample": longest}
    # No S3 key is longer: such text is never matched at all.
    assert plan.match(longest + "a", 1, "e") is None


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        (r"(?P<sample>a)\1", "invalid escape sequence"),
        (r"(?P<sample>a)(?=b)", "invalid perl operator"),
        (r"(?<!x)(?P<sample>a)", "invalid perl operator"),
        (r"(?P<sample>a)(?P=sample)", "invalid perl operator"),
        ("(?P<sample>a", "missing )"),
    ],
)
def test_patterns_re2_refuses_are_named_with_the_reason(pattern, reason):
    message = refusal(patterns={"read1": r"(?P<sample>.+)_R1", "read2": pattern})
    assert "pattern 'read2'" in message and reason in message


def test_pattern_size_and_count_are_bounded():
    long = "(?P<sample>" + "a" * import_syntax.MAX_PATTERN_CHARS + ")"
    assert "the limit is 1000" in refusal(patterns={"read1": long})
    many = {f"role{i}": "(?P<sample>x)" for i in range(import_syntax.MAX_PATTERNS + 1)}
    assert "at most 20 items" in refusal(patterns=many)


def test_patterns_too_complex_to_match_quickly_are_refused():
    # Counted repetitions blow up RE2's program, and with it the cost of every character.
    message = refusal(patterns={"read1": r"(?P<sample>[\s\S]{100}x)"})
    assert "pattern 'read1'" in message and "too complex" in message
    illumina = r"(?P<run>[^/]+)/(?P<sample>[A-Za-z0-9-]+)_S\d+_L00[1-4]_R1_001\.fastq\.gz$"
    assert import_syntax.compile_pattern(illumina).programsize < 100


def test_a_plan_stops_when_matching_takes_too_long_in_all():
    created = ImportCreate.model_validate(spec(patterns={"files": CATASTROPHIC}))
    definitions = [PropertyDef(name="sample", type=PropertyType.string)]
    generous = ImportPlan(created, definitions)
    assert all(generous.match("a" * 1000, 1, "e") for _ in range(100))
    stingy = ImportPlan(created, definitions, match_seconds=1e-9)
    with pytest.raises(InvalidInputError, match=r"took over 1e-09 s in all \(after 1 keys\)"):
        stingy.match("a" * 1000, 1, "e")


@pytest.mark.parametrize(
    "template",
    [
        "{sample:>30000000}",
        "{sample:d}",
        "{sample!r}",
        "{0}",
        "{}",
        "{sample.__class__}",
        "{sample[0]}",
        "{sample:{sample}}",
    ],
)
def test_templates_allow_plain_fields_only(template):
    message = refusal(name=f"run-{template}")
    assert "placeholder" in message and "plain {field}" in message
    assert "placeholder" in refusal(properties={"condition": template})


def test_templates_name_unknown_fields_and_broken_braces():
    assert "{lane} is not a named group of every pattern" in refusal(name="{sample}-{lane}")
    assert "properties.condition" in refusal(properties={"condition": "{lane}"})
    assert "Single '}'" in refusal(name="sample}")
    assert "key: every pattern needs a named group (?P<sample>...)" in refusal(
        patterns={"read1": r"(?P<sample>.+)_R1", "read2": r"(?P<id>.+)_R2"}
    )


def test_plain_templates_and_escapes_render():
    created = ImportCreate.model_validate(
        spec(name="{{run}}-{sample}", properties={"condition": "treated {sample}", "depth": 30})
    )
    definitions = [
        PropertyDef(name="read1", type=PropertyType.file),
        PropertyDef(name="read2", type=PropertyType.file),
        PropertyDef(name="condition", type=PropertyType.string),
    ]
    plan = ImportPlan(created, definitions)
    members = [plan.match(f"S1_{r}.fq", 1, "e") for r in ("R1", "R2")]
    planned = plan.build("S1", members, "s3://lab-raw/")
    assert planned.name == "{run}-S1"
    assert planned.properties["condition"] == "treated S1"
    assert planned.properties["read2"] == "s3://lab-raw/S1_R2.fq"


def test_a_stored_spec_is_shown_without_the_request_checks():
    # Jobs queued under older rules must still be listed (the job itself then fails).
    stored = ImportSpec.model_validate(spec(name="{sample:>9}", bucket="Old_Bucket"))
    assert stored.name == "{sample:>9}"


def test_search_returns_text_groups_for_any_key():
    pattern = import_syntax.compile_pattern(r"(?P<sample>[^/]+)_R1(?P<lane>_L\d+)?\.fq$")
    assert import_syntax.search(pattern, "runs/é/Sé_R1.fq") == {"sample": "Sé"}
    assert import_syntax.search(pattern, "S1_R1_L2.fq") == {"sample": "S1", "lane": "_L2"}
    assert import_syntax.search(pattern, "S1_R2.fq") is None
    assert import_syntax.render("{sample}{lane}", {"sample": "S1"}) == "S1"

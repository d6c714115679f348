"""Lineage: activities link input and output datasets; the graph goes N levels up and down."""

from __future__ import annotations


def chain(lab, length: int) -> list[str]:
    """DS-1 -> run -> DS-2 -> run -> ... : each dataset made from the previous one."""
    ids = [lab.ok("POST", "/datasets", 201, json={"name": "d0", "data_type": "file"})["short_id"]]
    lab.ok("POST", "/activities", 201, json={"kind": "upload", "outputs": [ids[0]]})
    for i in range(1, length):
        made = lab.ok("POST", "/datasets", 201, json={"name": f"d{i}", "data_type": "file"})
        lab.ok("POST", "/activities", 201, json={
            "kind": "pipeline_run", "inputs": [ids[-1]], "outputs": [made["short_id"]],
            "details": {"run": f"R{i}"},
        })  # fmt: skip
        ids.append(made["short_id"])
    return ids


def datasets_in(graph) -> list[str]:
    return sorted(n["id"] for n in graph["nodes"] if n["kind"] == "dataset")


def test_graph_depth_and_direction(lab):
    ids = chain(lab, 5)  # DS-1 .. DS-5
    middle = ids[2]
    graph = lab.ok("GET", f"/datasets/{middle}/lineage", params={"depth": 1})
    assert graph["root"] == middle and datasets_in(graph) == ids[1:4]
    activities = [n for n in graph["nodes"] if n["kind"] == "activity"]
    assert {a["activity_kind"] for a in activities} == {"pipeline_run"}
    assert len(graph["edges"]) == 4  # DS-2 -> run -> DS-3 -> run -> DS-4
    assert datasets_in(lab.ok("GET", f"/datasets/{middle}/lineage", params={"depth": 2})) == ids
    up = lab.ok("GET", f"/datasets/{middle}/lineage", params={"depth": 5, "direction": "upstream"})
    assert datasets_in(up) == ids[:3]
    kinds = {n["activity_kind"] for n in up["nodes"] if n["kind"] == "activity"}
    assert kinds == {"upload", "pipeline_run"}
    down = lab.ok(
        "GET", f"/datasets/{middle}/lineage", params={"depth": 5, "direction": "downstream"}
    )
    assert datasets_in(down) == ids[2:]
    edge = {(e["source"], e["target"]) for e in down["edges"]}
    run = next(n["id"] for n in down["nodes"] if n.get("details") == {"run": "R3"})
    assert (ids[2], run) in edge and (run, ids[3]) in edge


def test_activities_fan_in_and_out(lab):
    a, b, c = (
        lab.ok("POST", "/datasets", 201, json={"name": n, "data_type": "file"})["short_id"]
        for n in "abc"
    )
    run = lab.ok(
        "POST", "/activities", 201, json={"kind": "pipeline_run", "inputs": [a, b], "outputs": [c]}
    )
    assert (run["inputs"], run["outputs"]) == ([a, b], [c])
    assert lab.ok("GET", f"/activities/{run['id']}")["inputs"] == [a, b]
    graph = lab.ok("GET", f"/datasets/{c}/lineage")
    assert datasets_in(graph) == sorted([a, b, c])


def test_activity_refusals(lab, factory, api, app):
    from tests.catalog.conftest import make_lab

    assert lab.request("POST", "/activities", json={"kind": "manual"}).status_code == 422
    missing = lab.request("POST", "/activities", json={"outputs": ["DS-000099"]})
    assert missing.status_code == 404
    other = make_lab(factory, api, app, "beta-labs", "bob@example.com")
    theirs = other.ok("POST", "/datasets", 201, json={"name": "x", "data_type": "file"})
    assert lab.request("POST", "/activities", json={"outputs": [theirs["id"]]}).status_code == 404
    assert lab.request("GET", f"/datasets/{theirs['id']}/lineage").status_code == 404
    assert lab.request("GET", "/datasets/DS-000001/lineage", params={"depth": 0}).status_code == 422

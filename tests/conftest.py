"""Shared fixtures: the repository's paths and a small, valid schema folder to break."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCHEMAS_2020 = REPO / "schemas" / "2020"
REFERENCE = REPO.parent / "shared" / "reference"


@pytest.fixture(autouse=True, scope="session")
def private_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep the schema cache of test runs out of the user's home."""
    import os

    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))


@pytest.fixture
def mini_schema(tmp_path: Path) -> Path:
    """A copy of two base tables and their code lists: small, valid, safe to edit."""
    target = tmp_path / "2020"
    (target / "tables").mkdir(parents=True)
    (target / "codelists").mkdir()
    shutil.copy(SCHEMAS_2020 / "catalogue.yaml", target / "catalogue.yaml")
    (target / "codelists" / "XB.yaml").write_text(
        "id: XB\nname: 性别\nsource: test\nvalues:\n  - {code: '01', label: 男}\n  - {code: '02', label: 女}\n",
        encoding="utf-8",
    )
    (target / "tables" / "DW.yaml").write_text(
        """\
id: DW
physical: TBL_DW
number: 1-2
number_2019: 1-3
title: 单位
category: 1
shape: list
time_basis: snapshot
base: true
fields:
  - {key: DWH, header: 单位号, type: id}
  - {key: DWMC, header: 单位名称, type: text}
checks:
  - id: DW.unit_unique
    kind: unique
    fields: [单位号]
    message: 单位号重复
    hint: 每个单位号只出现一次
""",
        encoding="utf-8",
    )
    (target / "tables" / "RY.yaml").write_text(
        """\
id: RY
physical: TBL_RY
number: 1-5-1
number_2019: 1-6-1
title: 人员
category: 1
shape: list
time_basis: snapshot
depends_on: [DW]
fields:
  - {key: GH, header: 工号, type: id}
  - {key: XB, header: 性别, type: code, code_list: XB}
  - {key: DWH, header: 单位号, type: id}
  - {key: ZS, header: 总数, type: integer, min: 0}
  - {key: JN, header: 境内, type: integer, min: 0}
  - {key: JW, header: 境外, type: integer, min: 0}
checks:
  - id: RY.unit_exists
    kind: reference
    fields: [单位号]
    targets: [{table: DW, fields: [单位号]}]
    message: 单位号不存在
    hint: 填写表1-2中的单位号
  - id: RY.total
    kind: relation
    assert: 总数 == 境内 + 境外
    fields: [总数]
    message: 总数不等于境内与境外之和
    hint: 核对三个数
""",
        encoding="utf-8",
    )
    return target


@pytest.fixture
def collection_dir(tmp_path: Path) -> Path:
    """A freshly initialised collection for an arts school."""
    from statecollect.collection import init_collection

    root = tmp_path / "采集2020"
    init_collection(root, year=2020, school="测试艺术学院", school_type="艺术院校")
    return root


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small demo school with planted faults, built once for the whole test session."""
    from statecollect.demo import build_demo

    root = tmp_path_factory.mktemp("demo") / "星海"
    build_demo(root, scale="small", inject_errors=True, seed=7)
    return root


@pytest.fixture(scope="session")
def clean_demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small demo school exactly as generated: every returned workbook is correct."""
    from statecollect.demo import build_demo

    root = tmp_path_factory.mktemp("clean") / "星海"
    build_demo(root, scale="small", seed=7)
    return root


@pytest.fixture
def school(clean_demo_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the clean demo collection, safe to edit (its ledger is empty)."""
    copy = Path(shutil.copytree(clean_demo_dir, tmp_path / "school"))
    shutil.rmtree(copy / ".statecollect", ignore_errors=True)
    return copy

from __future__ import annotations

import pytest
from pydantic import ValidationError

from statecollect.schema import CodeList, DateBound, Field, ReferenceCheck, Table
from statecollect.yamlsource import validated


def test_code_field_needs_a_list() -> None:
    with pytest.raises(ValidationError, match="needs code_list"):
        validated(Field, {"key": "XB", "header": "性别", "type": "code"})
    with pytest.raises(ValidationError, match="only for type code"):
        validated(Field, {"key": "XB", "header": "性别", "type": "text", "code_list": "XB"})


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"type": "text", "min": 0}, "only for integer and decimal"),
        ({"type": "integer", "min": 5, "max": 1}, "greater than max"),
        ({"type": "text", "pattern": "([a-z"}, "bad pattern"),
        ({"type": "text", "colour": "red"}, "Unexpected keyword argument"),
    ],
)
def test_field_consistency(extra: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        validated(Field, {"key": "A", "header": "甲", **extra})


def test_field_keys_are_ascii_identifiers() -> None:
    with pytest.raises(ValidationError, match="pattern"):
        validated(Field, {"key": "工号", "header": "工号", "type": "id"})


def test_code_list_rejects_duplicate_codes() -> None:
    with pytest.raises(ValidationError, match="duplicate code '01'"):
        validated(CodeList, {"id": "XB", "name": "性别", "source": "t",
                             "values": [{"code": "01", "label": "男"}, {"code": "01", "label": "女"}]})


def test_reference_arity_must_match() -> None:
    with pytest.raises(ValidationError, match="expected 2"):
        validated(ReferenceCheck, {"kind": "reference", "id": "T.r", "message": "m", "hint": "h", "fields": ["a", "b"],
                                   "targets": [{"table": "X", "fields": ["a"]}]})


@pytest.mark.parametrize(
    "data", [{}, {"anchor": "snapshot", "date": "2020"}, {"date": "2020/01"}, {"anchor": "tomorrow"}]
)
def test_date_bound_forms(data: dict) -> None:
    with pytest.raises(ValidationError):
        validated(DateBound, data)


def test_table_rejects_duplicate_headers() -> None:
    with pytest.raises(ValidationError, match="duplicate field header '工号'"):
        validated(Table, {"id": "T", "physical": "TBL_T", "number": "1", "number_2019": "1", "title": "t", "category": 1,
                          "shape": "list", "time_basis": "snapshot",
                          "fields": [{"key": "A", "header": "工号", "type": "id"}, {"key": "B", "header": "工号", "type": "id"}]})


def test_template_fields_leave_out_dictionary_only_fields() -> None:
    table = validated(Table, {"id": "T", "physical": "TBL_T", "number": "1", "number_2019": "1", "title": "t", "category": 1,
                              "shape": "list", "time_basis": "snapshot",
                              "fields": [{"key": "A", "header": "甲", "type": "text"},
                                         {"key": "B", "header": "乙", "type": "text", "in_template": False}]})
    assert [field.header for field in table.template_fields] == ["甲"]
    assert table.display_name == "表1 t"


def test_every_schema_model_refuses_unknown_keys_and_is_frozen() -> None:
    import dataclasses
    import inspect

    from statecollect import schema

    models = [item for _, item in inspect.getmembers(schema, inspect.isclass)
              if dataclasses.is_dataclass(item) and item.__module__ == schema.__name__]
    assert len(models) > 15
    for model in models:
        assert issubclass(model, schema.Model) and model.__pydantic_config__.get("extra") == "forbid", model.__name__
        # its own dataclass, not one inherited by a subclass that forgot @model
        assert "__dataclass_params__" in vars(model) and model.__dataclass_params__.frozen, model.__name__  # type: ignore[attr-defined]
    assert schema.RelationCheck.__pydantic_config__.get("populate_by_name")  # `assert` is a keyword: the field is assert_
    check = validated(schema.RelationCheck, {"kind": "relation", "id": "T.r", "message": "m", "hint": "h", "assert": "1 > 0"})
    assert check.assert_ == "1 > 0"
    with pytest.raises(dataclasses.FrozenInstanceError):
        check.message = "n"  # type: ignore[misc]


def test_the_models_load_without_pydantic() -> None:
    """The cache serves the models to every command: importing them must not import pydantic."""
    import subprocess
    import sys

    code = ("import sys, statecollect.schema, statecollect.collection, statecollect.schema_loader, statecollect.catalogue, "
            "statecollect.yamlsource; print('pydantic' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"

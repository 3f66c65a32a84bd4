"""Synthetic school data: realistic, consistent rows for every table of a schema set.

The seven base tables get hand-shaped generators (units, majors from the real major
catalogue, staff, students, labs); every other table is generated from its schema:
values by field type and header, then its declarative checks are used as recipes —
date windows give the range, references copy real keys, code-list checks pick real
pairs, relations are repaired (``总数 == 境内 + 境外`` sets 总数). Finally each table is
run through the check engine and records that still fail are dropped, so the result
is clean by the same rules validation applies. Everything is seeded and repeatable.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from statecollect.catalogue import Catalogue
from statecollect.checks import Engine, Key, record_key
from statecollect.expressions import (
    Binary,
    Call,
    EvalContext,
    FieldRef,
    ListLit,
    Literal,
    LookupIndexes,
    Node,
    compile_node,
    field_refs,
    key_text,
    parse,
)
from statecollect.findings import Severity
from statecollect.schema import (
    AggregateCheck,
    CodeListCheck,
    DateWindowCheck,
    Field,
    FieldType,
    ReferenceCheck,
    RelationCheck,
    Shape,
    Table,
    UniqueCheck,
)
from statecollect.stat_times import StatisticTimes

__all__ = ["SCALES", "Scale", "SchoolData", "synthesize"]

Record = dict[str, Any]
SchoolData = dict[str, list[Record]]


@dataclass(frozen=True)
class Scale:
    colleges: int
    majors: int
    staff: int
    external: int
    students: int
    labs: int
    courses: int
    list_rows: int


SCALES: dict[str, Scale] = {
    "small": Scale(colleges=8, majors=24, staff=420, external=80, students=3200, labs=40, courses=900, list_rows=12),
    "large": Scale(colleges=16, majors=64, staff=3200, external=420, students=32000, labs=320, courses=10400, list_rows=60),
}

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏飞宇浩然子涵梓萱一诺欣怡博文思远雨桐晨曦嘉怡俊杰婉清志强海燕晓东建国文博雅琪心怡天佑"
OFFICES = ("党委办公室", "校长办公室", "组织部", "宣传部", "人事处", "教务处", "科研处", "学生工作处", "招生就业处",
           "财务处", "国有资产管理处", "后勤管理处", "国际交流与合作处", "图书馆", "网络信息中心", "团委", "发展规划处",
           "研究生院", "教学质量评估中心", "档案馆")
COLLEGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("新闻传播学院", ("0503",)),
    ("影视艺术学院", ("1303",)),
    ("播音主持艺术学院", ("1303",)),
    ("动画与数字艺术学院", ("1303", "1305")),
    ("设计学院", ("1305",)),
    ("美术学院", ("1304",)),
    ("音乐学院", ("1302",)),
    ("戏剧学院", ("1303",)),
    ("文学院", ("0501",)),
    ("外国语学院", ("0502",)),
    ("经济管理学院", ("1202", "0201")),
    ("计算机与信息工程学院", ("0809", "0807")),
    ("数字媒体技术学院", ("0809",)),
    ("文化产业管理学院", ("1202",)),
    ("国际传播学院", ("0503", "0502")),
    ("舞蹈学院", ("1302",)),
)
WORDS = ("数字", "影像", "媒体", "传播", "创意", "视听", "交互", "叙事", "融媒体", "品牌", "艺术", "设计", "文化", "智能",
         "网络", "新闻", "舞台", "声音", "视觉", "内容", "产业", "公共", "实践", "跨文化", "乡村", "非遗", "青年")
NOUNS = {"课程": ("基础", "概论", "实务", "创作", "研究", "工作坊", "专题"), "项目": ("研究", "实践", "创新项目", "建设"),
         "论文": ("研究", "探析", "路径研究", "策略研究"), "基地": ("实践基地", "实训基地", "创作基地"), "中心": ("实验中心", "研究中心"),
         "团队": ("创作团队", "教学团队"), "社团": ("社", "协会", "工作室"), "教材": ("教程", "导论", "实务"),
         "著作": ("研究", "论稿"), "作品": ("", "系列"), "竞赛": ("大赛", "竞赛"), "奖": ("奖",), "实验室": ("实验室",)}


# --------------------------------------------------------------------------- values


class _Values:
    """Random values by field type and header; ids are unique per table and field."""

    def __init__(self, rng: random.Random, catalogue: Catalogue, times: StatisticTimes) -> None:
        self.rng = rng
        self.catalogue = catalogue
        self.times = times
        self.counters: dict[str, int] = {}

    def name(self) -> str:
        given = self.rng.choice(GIVEN) + (self.rng.choice(GIVEN) if self.rng.random() < 0.7 else "")
        return self.rng.choice(SURNAMES) + given

    def next_id(self, key: str, prefix: str, width: int = 5) -> str:
        self.counters[key] = self.counters.get(key, 0) + 1
        return f"{prefix}{self.counters[key]:0{width}d}"

    def title(self, header: str) -> str:
        for word, endings in NOUNS.items():
            if word in header:
                return "".join(self.rng.sample(WORDS, 2)) + self.rng.choice(endings)
        return "".join(self.rng.sample(WORDS, 2)) + header.replace("名称", "")[:6]

    def number(self, field_: Field) -> float:
        low = field_.min if field_.min is not None else 0
        span = {"平方米": 20000, "万元": 3000, "册": 50000, "人": 300, "人次": 800, "个": 30, "门": 60, "次": 2000,
                "Mbps": 10000, "GB": 5000, "学时": 64, "学分": 4, "分": 600}.get(field_.unit or "", 100)
        high = field_.max if field_.max is not None else low + span
        return self.rng.uniform(low + (high - low) * 0.1 if field_.max is None else low, high)

    def value(self, table: Table, field_: Field) -> Any:
        header = field_.header
        kind = field_.type
        if kind is FieldType.CODE and field_.code_list:
            labels = self.catalogue.code_list(field_.code_list).labels()
            return self.rng.choice(labels)
        if kind is FieldType.YES_NO:
            return self.rng.choice(("是", "否"))
        if kind is FieldType.INTEGER:
            return int(self.number(field_))
        if kind is FieldType.DECIMAL:
            return round(self.number(field_), 2)
        if kind is FieldType.YEAR:
            return self.rng.randint(self.times.year - 6, self.times.year - 1)
        if kind is FieldType.YEAR_MONTH:
            return date(self.rng.randint(self.times.year - 6, self.times.year - 1), self.rng.randint(1, 12), 1)
        if kind is FieldType.DATE:
            start = self.times.academic_start
            return start + timedelta(days=self.rng.randint(0, 360))
        if kind is FieldType.ID and "ISBN" in header:
            return f"978-7-{self.rng.randint(100, 999)}-{self.next_id(f'{table.id}.{field_.key}', '', 5)}-{self.rng.randint(0, 9)}"
        if kind is FieldType.ID:
            return self.next_id(f"{table.id}.{field_.key}", table.id[:2])
        if kind is FieldType.URL:
            return "http://www.xinghai.edu.cn/" + field_.key.lower()
        if kind is FieldType.EMAIL:
            return f"{field_.key.lower()}@xinghai.edu.cn"
        if kind is FieldType.PHONE:
            return f"1{self.rng.choice('3589')}{self.rng.randint(100000000, 999999999)}"
        if any(word in header for word in ("姓名", "负责人", "教师", "主持人", "作者", "指导")) and "名称" not in header:
            return self.name()
        if kind is FieldType.LONG_TEXT:
            return "坚持立德树人，面向" + "、".join(self.rng.sample(WORDS, 3)) + "领域培养高素质应用型人才。"
        return self.title(header)


# --------------------------------------------------------------------------- repair


class _Repairer:
    """Makes a record satisfy a relation by setting the field the relation pins down.

    ``总数 == 境内 + 境外`` sets 总数 and remembers that 总数 is pinned to its parts; a later
    ``总数 <= 上限`` then scales the parts instead of breaking the sum.
    """

    def __init__(self, table: Table, values: _Values, tables: Mapping[str, Sequence[Record]], stats: Mapping[str, Any],
                 indexes: LookupIndexes | None = None) -> None:
        self.table = table
        self.values = values
        self.tables = tables
        self.stats = stats
        self.indexes = {} if indexes is None else indexes
        self.pinned: dict[str, Node] = {}

    def evaluate(self, node: Node, row: Record) -> Any:
        context = EvalContext(row=row, tables=self.tables, stats=self.stats, indexes=self.indexes)
        return compile_node(node, self.table.id)(context)

    def repair(self, node: Node, row: Record) -> None:
        if isinstance(node, Binary) and node.op == "and":
            self.repair(node.left, row)
            self.repair(node.right, row)
        elif isinstance(node, Binary) and node.op == "or":
            if self.evaluate(node, row) is False:
                self.repair(node.right, row)
        elif isinstance(node, Binary):
            self.repair_comparison(node, row)
        elif isinstance(node, Call) and node.args and _own_field(node.args[0]):
            self.repair_call(node, row, node.args[0].header)  # type: ignore[union-attr]

    def repair_call(self, node: Call, row: Record, header: str) -> None:
        field_ = self.table.field(header)
        if node.name == "present" and field_ is not None and row.get(header) in (None, ""):
            row[header] = self.values.value(self.table, field_)
        elif node.name == "blank":
            row[header] = None
        elif node.name == "startswith" and isinstance(node.args[1], Literal):
            prefix, current = str(node.args[1].value), str(row.get(header) or "")
            if not current.startswith(prefix):
                row[header] = prefix + current[len(prefix):]

    def repair_comparison(self, node: Binary, row: Record) -> None:
        if self.evaluate(node, row) is not False:
            if node.op == "==" and _own_field(node.left):
                self.pinned[node.left.header] = node.right  # type: ignore[union-attr]
            return
        left, right, op = node.left, node.right, node.op
        if not _own_field(left) and _own_field(right):
            left, right, op = right, left, _MIRROR.get(op, op)
        if not _own_field(left):
            self.fit_sum(left, op, self.evaluate(right, row), row)
            return
        assert isinstance(left, FieldRef)
        field_ = self.table.field(left.header)
        if field_ is None:
            return
        if op in {"in", "not in"} and isinstance(right, ListLit):
            self.repair_membership(field_, op, right, row)
            return
        target = self.evaluate(right, row)
        if target is None:
            return
        if op == "==":
            row[left.header] = target
            self.pinned[left.header] = right
        elif left.header in self.pinned and isinstance(target, int | float):
            self.fit_sum(self.pinned[left.header], op, target, row)
            row[left.header] = self.evaluate(self.pinned[left.header], row)
        else:
            row[left.header] = _satisfying(op, target, row.get(left.header), field_, self.values)

    def fit_sum(self, node: Node, op: str, target: Any, row: Record) -> None:
        """Scale the own fields summed in ``node`` so that the sum meets ``op target``."""
        parts = _summands(node)
        current = self.evaluate(node, row)
        if not parts or not isinstance(target, int | float) or not isinstance(current, int | float):
            return
        if op == "==":
            others = current - (row.get(parts[-1]) or 0)
            if target - others >= 0:
                row[parts[-1]] = _like(row.get(parts[-1]), target - others)
                return
        factor = _fit_factor(op, current, target)
        for header in parts:
            value = row.get(header)
            if isinstance(value, int | float):
                row[header] = _like(value, value * factor)

    def repair_membership(self, field_: Field, op: str, right: ListLit, row: Record) -> None:
        items = [item.value for item in right.items if isinstance(item, Literal)]
        if op == "in" and items:
            row[field_.header] = items[0]
        elif op == "not in" and field_.code_list:
            choices = [label for label in self.values.catalogue.code_list(field_.code_list).labels() if label not in items]
            row[field_.header] = choices[0] if choices else None


def _summands(node: Node) -> list[str]:
    """The own fields of a ``a + b + c`` chain, or [] when the node is anything else."""
    if _own_field(node):
        return [node.header]  # type: ignore[union-attr]
    if isinstance(node, Binary) and node.op == "+":
        left, right = _summands(node.left), _summands(node.right)
        return left + right if left and right else []
    return []


def _fit_factor(op: str, current: float, target: float) -> float:
    if current <= 0:
        return 1.0
    if op in {"<", "<="}:
        return max(0.0, target / current * (0.9 if op == "<" else 0.98))
    if op in {">", ">="}:
        return target / current * (1.1 if op == ">" else 1.02) + (0.01 if target == 0 else 0)
    return target / current


def _like(example: Any, value: float) -> int | float:
    return int(value) if isinstance(example, int) and not isinstance(example, bool) else round(value, 2)


_MIRROR = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "==": "==", "!=": "!="}


def _own_field(node: Node) -> bool:
    return isinstance(node, FieldRef) and node.table is None


def _satisfying(op: str, target: Any, current: Any, field_: Field, values: _Values) -> Any:
    if op == "==":
        return target
    if op == "!=":
        if field_.code_list:
            choices = [label for label in values.catalogue.code_list(field_.code_list).labels() if label != target]
            return choices[0] if choices else current
        return None if not isinstance(target, int | float) else target + 1
    if isinstance(target, int | float) and not isinstance(target, bool):
        return _numeric_satisfying(op, target, field_)
    if isinstance(target, date) and op in {"<=", "<", ">=", ">"}:
        return target
    return current


def _numeric_satisfying(op: str, target: float, field_: Field) -> float:
    whole = field_.type in {FieldType.INTEGER, FieldType.YEAR}
    step = 1 if whole else 0.01
    if op == "<=":
        value = target
    elif op == "<":
        value = target - step if whole else round(target * 0.9, 2)
    elif op == ">=":
        value = target
    else:
        value = target + step if whole else round(target * 1.1 + step, 2)
    value = max(value, field_.min) if field_.min is not None and op in {">", ">="} else value
    return int(value) if whole else round(value, 2)


# --------------------------------------------------------------------------- the school


class _School:
    """Generates a whole school, base tables first, then every other table in dependency order."""

    def __init__(self, catalogue: Catalogue, times: StatisticTimes, scale: Scale, seed: int,
                 school: str, school_type: str, engine: Engine) -> None:
        self.catalogue = catalogue
        self.times = times
        self.scale = scale
        self.rng = random.Random(seed)
        self.values = _Values(self.rng, catalogue, times)
        self.school = school
        self.school_type = school_type
        self.engine = engine
        self.data: SchoolData = {}
        self.indexes: dict[tuple[str, tuple[str, ...]], dict[tuple[str, ...], list[Record]]] = {}

    def table(self, table_id: str) -> Table:
        return self.catalogue.table_by_id(table_id)

    # ------------------------------------------------------------------ base tables

    def offices(self) -> list[Record]:
        return [{"党政单位名称": name, "单位号": f"01{index:02d}", "单位职能": self.rng.choice(("教学管理", "学生管理", "质量监控", "其他")),
                 "单位负责人": self.values.name()} for index, name in enumerate(OFFICES, start=1)]

    def colleges(self) -> list[Record]:
        return [{"教学科研单位名称": name, "单位号": f"02{index:02d}", "单位职能": "教学院系", "单位负责人": self.values.name()}
                for index, (name, _) in enumerate(COLLEGES[: self.scale.colleges], start=1)]

    def majors(self) -> list[Record]:
        catalogue = self.catalogue.code_list("BKZYML_2020")
        rows: list[Record] = []
        used: set[str] = set()
        colleges = self.data["XXJXKYDW"]
        per_college = max(1, self.scale.majors // len(colleges))
        for college_index, college in enumerate(colleges):
            groups = COLLEGES[college_index][1]
            candidates = [entry for entry in catalogue.values if entry.parent in groups and entry.code not in used]
            for entry in candidates[:per_college]:
                used.add(entry.code)
                first_year = self.rng.randint(2003, self.times.year - 1)
                rows.append({
                    "校内专业代码": f"{college['单位号'][2:]}{len(rows) + 1:02d}", "校内专业名称": entry.label,
                    "专业名称": entry.label, "专业代码": entry.code, "代码版本": "2020",
                    "所属单位名称": college["教学科研单位名称"], "所属单位号": college["单位号"],
                    "专业设置年份": first_year, "学制": 4, "允许修业年限": 6,
                    "授予学位门类": _degree_field(entry.code), "招生状态": "在招",
                    "是否新专业": "是" if first_year >= self.times.year - 3 else "否", "是否师范类专业": "否",
                })
        return rows

    def person(self, birth_from: int, birth_to: int) -> Record:
        birth = date(self.rng.randint(birth_from, birth_to), self.rng.randint(1, 12), 1)
        return {"姓名": self.values.name(), "性别": self.rng.choice(("男", "女")), "出生年月": birth}

    def staff(self) -> list[Record]:
        units = self.data["XXJXKYDW"] * 3 + self.data["XXXGDZDW"]
        rows = []
        for index in range(self.scale.staff):
            unit = self.rng.choice(units)
            person = self.person(self.times.year - 62, self.times.year - 24)
            joined = date(self.rng.randint(person["出生年月"].year + 23, self.times.year - 1), self.rng.randint(1, 12), 1)
            degree = self.rng.choices(("博士研究生", "硕士研究生", "大学本科"), weights=(3, 6, 2))[0]
            rows.append({
                "工号": f"{index + 1:06d}", **person, "入校时间": joined, "任职状态": "在职",
                "单位号": unit["单位号"], "单位名称": unit.get("教学科研单位名称") or unit["党政单位名称"],
                "学历": degree, "最高学位": {"博士研究生": "博士", "硕士研究生": "硕士"}.get(degree, "学士"),
                "学缘": self.rng.choice(("本校", "外校（境内）", "外校（境内）", "外校（境外）")),
                "专业技术职称": self.rng.choices(("教授", "副教授", "讲师", "助教", "其他中级"), weights=(1, 3, 5, 2, 1))[0],
                "学科类别": self.rng.choice(("艺术学", "文学", "工学", "管理学")),
                "政治面貌": self.rng.choice(("中国共产党党员", "群众", "中国共产主义青年团团员")),
                "民族": self.rng.choices(("汉族", "回族", "满族", "蒙古族"), weights=(20, 1, 1, 1))[0],
            })
        return rows

    def external(self) -> list[Record]:
        colleges = self.data["XXJXKYDW"]
        rows = []
        for index in range(self.scale.external):
            unit = self.rng.choice(colleges)
            degree = self.rng.choice(("博士研究生", "硕士研究生", "大学本科"))
            rows.append({
                "工号": f"W{index + 1:05d}", **self.person(self.times.year - 65, self.times.year - 28),
                "聘任时间": self.rng.randint(self.times.year - 5, self.times.year - 1), "任职状态": "在职",
                "聘期": self.rng.choice((1, 2, 3)), "单位号": unit["单位号"], "单位名称": unit["教学科研单位名称"],
                "学历": degree, "最高学位": {"博士研究生": "博士", "硕士研究生": "硕士"}.get(degree, "学士"),
                "专业技术职称": self.rng.choice(("教授", "副教授", "讲师", "其他正高级", "其他副高级")),
                "工作单位类别": self.rng.choice(("企业公司", "高等学校", "其他事业单位")),
                "承担本科教学任务": self.rng.choice(("课程教学", "课程教学及指导实习、毕业设计（论文）")),
                "导师类别": "无", "地区": "境内",
            })
        return rows

    def students(self) -> list[Record]:
        majors = self.data["ZYJBQK"]
        rows = []
        for index in range(self.scale.students):
            major = majors[index % len(majors)]
            grade = self.times.year - 1 - (index // len(majors)) % 4
            rows.append({
                "学号": f"{grade}{major['校内专业代码']}{index + 1:05d}", "学生姓名": self.values.name(),
                "性别": self.rng.choice(("男", "女")), "校内专业（大类）名称": major["校内专业名称"],
                "校内专业（大类）代码": major["校内专业代码"], "生源类别": "境内", "年级": grade, "入学年份": grade,
            })
        return rows

    def labs(self) -> list[Record]:
        colleges = self.data["XXJXKYDW"]
        rows = []
        for index in range(self.scale.labs):
            unit = colleges[index % len(colleges)]
            rows.append({
                "实验场所代码": f"SY{index + 1:04d}", "实验场所名称": f"{unit['教学科研单位名称'][:-2]}{self.values.title('实验室')}{index + 1}",
                "所属单位名称": unit["教学科研单位名称"], "所属单位号": unit["单位号"],
                "性质": self.rng.choice(("基础实验室", "实训场所", "实习场所")), "共建情况": self.rng.choice(("是", "否")),
                "使用面积（平方米）": round(self.rng.uniform(60, 400), 2),
            })
        return rows

    def overview(self) -> list[Record]:
        return [{
            "学校名称": self.school, "代码": "13999", "英文名称": "Xinghai University of Media and Communication",
            "办学类型": "普通本科院校", "学校性质": self.school_type, "举办者": "省级教育部门",
            "主管部门": "省市（自治区）教育厅（委）", "学校网址": "http://www.xinghai.edu.cn", "招生批次": "第二批次招生A",
            "开办本科教育年份": 2003, "姓名": self.values.name(), "联系电话": "13800138000", "联系电子邮箱": "pgb@xinghai.edu.cn",
            "校训内容": "明德 尚美 博学 创新", "定位与发展目标内容": "建设特色鲜明的高水平应用型传媒艺术大学。",
            "学校规划": "“十三五”事业发展规划", "学校规划制定时间": self.times.year - 4,
        }]

    # ------------------------------------------------------------------ generic tables

    def row_count(self, table: Table) -> int:
        if table.shape is Shape.FORM:
            return 1
        if table.id == "KKQK":
            return self.scale.courses
        if table.part_of:
            return 2
        return self.scale.list_rows

    def generic(self, table: Table) -> list[Record]:
        rows = [{field_.header: self.values.value(table, field_) for field_ in table.template_fields}
                for _ in range(self.row_count(table))]
        relations = _relations(table)
        references = sorted((check for check in table.checks if isinstance(check, ReferenceCheck)),
                            key=lambda check: all(self.table(target.table).base for target in check.targets))
        indexes: LookupIndexes = {}  # lookups into other tables, shared by all rows
        for row in rows:
            self.pick_cascades(table, row)
            for check in table.checks:
                if isinstance(check, DateWindowCheck):
                    self.place_in_window(check, table, row)
                elif isinstance(check, CodeListCheck):
                    self.pick_pair(check, row)
            locked: set[str] = set()
            for check in references:
                self.copy_reference(check, row, locked)
            self.satisfy(table, row, relations, self.data, indexes)
        return rows

    def satisfy(self, table: Table, row: Record, relations: list[tuple[Node, Node | None]],
                tables: Mapping[str, Sequence[Record]], indexes: LookupIndexes | None = None) -> None:
        """Repair ``row`` against each relation whose condition holds; a few rounds, as one repair may undo another."""
        repairer = _Repairer(table, self.values, tables, self.times.variables(), indexes)
        for _ in range(3):
            for node, when in relations:
                if when is None or repairer.evaluate(when, row) is True:
                    repairer.repair(node, row)

    def rows_matching(self, table_id: str, headers: list[str], key: tuple[str, ...]) -> Sequence[Record]:
        """Rows of a generated table whose ``headers`` hold ``key`` (an index per table and headers)."""
        rows = self.data.get(table_id, ())
        if not headers:
            return rows
        index_key = (table_id, tuple(headers))
        if index_key not in self.indexes:
            index: dict[tuple[str, ...], list[Record]] = {}
            for source in rows:
                index.setdefault(tuple(key_text(source.get(header)) for header in headers), []).append(source)
            self.indexes[index_key] = index
        return self.indexes[index_key].get(key, ())

    def copy_reference(self, check: ReferenceCheck, row: Record, locked: set[str]) -> None:
        """Copy a real key from a target table, agreeing with keys an earlier reference already set."""
        if row.get(check.fields[0]) in (None, ""):
            return
        for target in sorted(check.targets, key=lambda target: self.rng.random() > 0.8):
            pairs = list(zip(check.fields, target.fields, strict=True))
            fixed = [(own, other) for own, other in pairs if own in locked]
            sources = self.rows_matching(target.table, [other for _, other in fixed],
                                         tuple(key_text(row.get(own)) for own, _ in fixed))
            if sources:
                source = self.rng.choice(sources)
                for own, other in pairs:
                    row[own] = source.get(other)
                locked.update(check.fields)
                return

    def pick_cascades(self, table: Table, row: Record) -> None:
        """A city together with its own province."""
        for field_ in table.template_fields:
            parent = table.field(field_.parent_field) if field_.parent_field else None
            if parent is None or not field_.code_list or not parent.code_list:
                continue
            entry = self.rng.choice(self.catalogue.code_list(field_.code_list).values)
            labels = {item.code: item.label for item in self.catalogue.code_list(parent.code_list).values}
            if entry.parent in labels:
                row[field_.header], row[parent.header] = entry.label, labels[entry.parent]

    def pick_pair(self, check: CodeListCheck, row: Record) -> None:
        if check.version_field:
            version = "2020" if "2020" in check.lists else next(iter(check.lists))
            row[check.version_field] = version
            list_id = check.lists[version]
        else:
            list_id = next(iter(check.lists.values()))
        entry = self.rng.choice(self.catalogue.code_list(list_id).values)
        row[check.code_field] = entry.code
        if check.label_field:
            row[check.label_field] = entry.label

    def place_in_window(self, check: DateWindowCheck, table: Table, row: Record) -> None:
        field_ = table.field(check.field)
        if field_ is None or row.get(check.field) is None:
            return
        low, high = _window(self.times, check)
        day = low + timedelta(days=self.rng.randint(0, max(0, (high - low).days)))
        if field_.type is FieldType.YEAR:
            row[check.field] = day.year
        elif field_.type is FieldType.YEAR_MONTH:
            row[check.field] = date(day.year, day.month, 1)
        else:
            row[check.field] = day

    # ------------------------------------------------------------------ cleaning

    def keep_clean(self, table: Table, rows: list[Record]) -> list[Record]:
        """Drop records that still break an error-level rule; shrink numbers while a table-wide rule fails."""
        for _ in range(12):
            failing, table_wide = self.failing(table, rows)
            if not failing and not table_wide:
                return rows
            if table_wide or table.shape is Shape.FORM:
                rows = [self.rescaled(table, row) for row in rows]
                continue
            rows = [row for index, row in enumerate(rows) if index not in failing]
        return rows

    def rescaled(self, table: Table, row: Record) -> Record:
        scaled = _scaled(table, row, 0.5)
        self.satisfy(table, scaled, _relations(table), {**self.data, table.id: [scaled]})
        return scaled

    def failing(self, table: Table, rows: list[Record]) -> tuple[set[int], bool]:
        """Indexes of records breaking an error-level rule, and whether a table-wide rule fails."""
        checked = self.engine.type_records(table, rows)
        findings = [finding for finding in (*checked.findings, *self.engine.run_checks([checked], known=self.data))
                    if finding.severity is Severity.ERROR and finding.rule_id != "table.empty"]
        rows_failing = {finding.location.row for finding in findings if isinstance(finding.location.row, int)}
        return rows_failing, any(finding.location.row is None for finding in findings)

    def dedupe(self, table: Table, rows: list[Record]) -> list[Record]:
        """Keep the first record of each key, compared as the unique checks compare them (blank parts never clash)."""
        for check in table.checks:
            if isinstance(check, UniqueCheck):
                seen: set[Key] = set()
                kept = []
                for row in rows:
                    key = record_key(row, check.fields)
                    if key is not None and key in seen:
                        continue
                    if key is not None:
                        seen.add(key)
                    kept.append(row)
                rows = kept
        return rows

    # ------------------------------------------------------------------ the whole school

    def build(self, table_ids: Iterable[str]) -> SchoolData:
        wanted = set(table_ids)
        special = {"XXXGDZDW": self.offices, "XXJXKYDW": self.colleges, "ZYJBQK": self.majors, "JZGJBXX": self.staff,
                   "WPJSJBXX": self.external, "BKSJBQK": self.students, "BKSYCS": self.labs, "XXGK": self.overview}
        for table in _dependency_order(self.catalogue, wanted | set(special)):
            maker = special.get(table.id)
            rows = maker() if maker else self.dedupe(table, self.generic(table))
            self.data[table.id] = self.keep_clean(table, rows)
        return {table_id: rows for table_id, rows in self.data.items() if table_id in wanted}


def _relations(table: Table) -> list[tuple[Node, Node | None]]:
    """The table's relations to repair records against, each with its condition."""
    # aggregate checks speak of whole tables: only a form's single record can be repaired against them
    repairable = RelationCheck | AggregateCheck if table.shape is Shape.FORM else RelationCheck
    return [(parse(check.assert_), parse(check.when) if check.when else None)
            for check in table.checks if isinstance(check, repairable)]


def _window(times: StatisticTimes, check: DateWindowCheck) -> tuple[date, date]:
    def resolve(bound: Any, default: date) -> date:
        return default if bound is None else times.bound(bound)

    low = resolve(check.not_before, times.snapshot.replace(year=times.year - 6))
    if check.after is not None:
        low = resolve(check.after, low) + timedelta(days=400)
    high = resolve(check.not_after, times.academic_end)
    if check.before is not None:
        high = resolve(check.before, high) - timedelta(days=400)
    return (low, high) if low <= high else (high, high)


def _scaled(table: Table, row: Record, factor: float) -> Record:
    scaled = dict(row)
    for field_ in table.template_fields:
        value = row.get(field_.header)
        if field_.type is FieldType.DECIMAL and isinstance(value, int | float):
            scaled[field_.header] = round(value * factor, 2)
        elif field_.type is FieldType.INTEGER and isinstance(value, int):
            scaled[field_.header] = max(int(value * factor), int(field_.min or 0))
    return scaled


def _degree_field(code: str) -> str:
    return {"01": "哲学", "02": "经济学", "03": "法学", "04": "教育学", "05": "文学", "06": "历史学", "07": "理学",
            "08": "工学", "09": "农学", "10": "医学", "12": "管理学", "13": "艺术学"}.get(code[:2], "艺术学")


def _tables_needed(table: Table) -> list[str]:
    """Tables whose rows this table's checks read: reference targets and tables named in expressions."""
    needed: list[str] = []
    for check in table.checks:
        if isinstance(check, ReferenceCheck):
            needed += [target.table for target in check.targets]
        elif isinstance(check, RelationCheck | AggregateCheck):
            needed += [ref.table for ref in field_refs(parse(check.assert_)) if ref.table]
    return needed


def _dependency_order(catalogue: Catalogue, wanted: set[str]) -> list[Table]:
    """Tables in an order where every referenced table comes first."""
    ordered: list[Table] = []
    placed: set[str] = set()

    def place(table: Table, trail: frozenset[str]) -> None:
        if table.id in placed or table.id in trail:
            return
        for other in _tables_needed(table):
            if other in wanted and other != table.id:
                place(catalogue.table_by_id(other), trail | {table.id})
        placed.add(table.id)
        ordered.append(table)

    for table in catalogue.tables:
        if table.id in wanted:
            place(table, frozenset())
    return ordered


def synthesize(catalogue: Catalogue, times: StatisticTimes, *, scale: Scale, seed: int, school: str,
               school_type: str, table_ids: Iterable[str], engine: Engine) -> SchoolData:
    """Rows for every table in ``table_ids`` (plus the base tables they need), clean by ``engine``."""
    return _School(catalogue, times, scale, seed, school, school_type, engine).build(table_ids)

"""The household/resident ledger as an .xlsx sheet: one row per resident, Chinese headers.

The same columns go out (export, with ID numbers and phones masked) and come in (import).
"""

import re
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from grid import xlsx


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    required: bool = False
    width: int = 12
    choices: tuple[str, ...] = ()


HOUSING = {
    "自有住房": "owner",
    "自有": "owner",
    "租住": "tenant",
    "租房": "tenant",
    "公租房": "public_rental",
    "保障房": "affordable",
    "保障性住房": "affordable",
    "其他": "other",
}
RELATION = {
    "户主": "head",
    "本人": "head",
    "配偶": "spouse",
    "妻": "spouse",
    "夫": "spouse",
    "子女": "child",
    "子": "child",
    "女": "child",
    "父母": "parent",
    "父亲": "parent",
    "母亲": "parent",
    "孙子女": "grandchild",
    "孙子": "grandchild",
    "孙女": "grandchild",
    "兄弟姐妹": "sibling",
    "其他": "other",
}
GENDER = {"男": "male", "女": "female"}
RESIDENCE = {
    "户籍": "registered",
    "户籍人口": "registered",
    "长期居住": "long_term",
    "常住": "long_term",
    "流动": "floating",
    "流动人口": "floating",
}
POLITICAL = {
    "中共党员": "party_member",
    "党员": "party_member",
    "共青团员": "league_member",
    "团员": "league_member",
    "群众": "masses",
    "其他": "other",
}
COLOUR = {"红": "red", "红色": "red", "黄": "yellow", "黄色": "yellow", "蓝": "blue", "蓝色": "blue"}
CARE_TAGS = {
    "独居": "living_alone",
    "空巢": "empty_nest",
    "低保": "low_income",
    "特困": "extreme_poverty",
    "残疾": "disabled",
    "严重精神障碍": "severe_mental_disorder",
    "大病": "serious_illness",
    "退役军人": "veteran",
    "留守儿童": "left_behind_child",
    "失业": "unemployed",
    "孕妇": "pregnant",
    "困境儿童": "minor_in_need",
}
GRADES = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}


def _first_labels(mapping: dict[str, str]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for label, code in mapping.items():
        labels.setdefault(code, label)
    return labels


LABELS = {
    name: _first_labels(mapping)
    for name, mapping in {
        "housing_kind": HOUSING,
        "relation": RELATION,
        "gender": GENDER,
        "residence_kind": RESIDENCE,
        "political_status": POLITICAL,
        "colour": COLOUR,
        "care_tags": CARE_TAGS,
    }.items()
}

COLUMNS = [
    Column("node_code", "楼栋/单元编码", required=True, width=26),
    Column("room", "房号", required=True, width=8),
    Column("housing_kind", "住房性质", choices=("自有住房", "租住", "公租房", "保障房", "其他")),
    Column("name", "姓名", required=True, width=10),
    Column(
        "relation",
        "与户主关系",
        required=True,
        choices=("户主", "配偶", "子女", "父母", "孙子女", "兄弟姐妹", "其他"),
    ),
    Column("id_number", "身份证号", required=True, width=22),
    Column("gender", "性别", width=6, choices=("男", "女")),
    Column("birth_date", "出生日期", width=12),
    Column("phone", "联系电话", width=15),
    Column("residence_kind", "居住类型", choices=("户籍", "长期居住", "流动")),
    Column("ethnicity", "民族", width=8),
    Column("political_status", "政治面貌", choices=("中共党员", "共青团员", "群众", "其他")),
    Column("care_tags", "重点人群", width=24),
    Column("colour", "三色标识", width=8, choices=("红", "黄", "蓝")),
    Column("notes", "备注", width=30),
]
HEADERS = {column.header: column for column in COLUMNS}


def parse_tags(text: str) -> list[tuple[str, int | None]]:
    """ "独居、残疾(二级)" → [("living_alone", None), ("disabled", 2)]; raises KeyError on unknown."""
    tags = []
    for part in re.split(r"[,，、;；/\s]+", text.strip()):
        if not part:
            continue
        match = re.match(r"^(.+?)[(（]?([一二三四1-4])级[)）]?$", part)
        label, grade = (match.group(1), GRADES[match.group(2)]) if match else (part, None)
        tags.append((CARE_TAGS[label], grade))
    return tags


def format_tags(tags) -> str:
    parts = []
    for tag in tags:
        label = LABELS["care_tags"][tag.kind]
        parts.append(f"{label}({tag.grade}级)" if tag.grade else label)
    return "、".join(parts)


def new_workbook(title: str = "居民台账"):
    workbook = Workbook(write_only=False)
    sheet = workbook.active
    sheet.title = title
    sheet.append([column.header for column in COLUMNS])
    bold = Font(bold=True)
    required_fill = PatternFill("solid", fgColor="FDE2E1")
    for index, column in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = bold
        if column.required:
            cell.fill = required_fill
        sheet.column_dimensions[cell.column_letter].width = column.width
        if column.choices:
            validation = DataValidation(
                type="list", formula1='"' + ",".join(column.choices) + '"', allow_blank=True
            )
            validation.add(f"{cell.column_letter}2:{cell.column_letter}20000")
            sheet.add_data_validation(validation)
    sheet.freeze_panes = "A2"
    return workbook, sheet


def template_bytes() -> bytes:
    workbook, sheet = new_workbook()
    sheet.append(
        [
            "370105005001-B001-U1",
            "101",
            "自有住房",
            "张建国",
            "户主",
            "370102195001011233",
            "男",
            "1950-01-01",
            "13800138000",
            "户籍",
            "汉族",
            "中共党员",
            "独居、残疾(二级)",
            "红",
            "示例行，导入前请删除",
        ]
    )
    return save(workbook)


def save(workbook) -> bytes:
    return xlsx.save(workbook)

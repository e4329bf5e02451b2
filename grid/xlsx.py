"""Excel exports that are safe to open: text stays text.

A cell whose text starts with "=" would be written as a live formula (a resident named
`=HYPERLINK(...)` becomes a link in the office's spreadsheet), and control characters pasted
into a name make the file unwritable. Every export appends its rows and saves through here.
"""

import io

from django.http import HttpResponse
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def clean(value):
    """A value as a cell can hold it: text without control characters, the rest as it is."""
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def append(sheet, values) -> None:
    sheet.append([clean(value) for value in values])


def save(workbook) -> bytes:
    """The workbook's bytes, every formula cell turned back into the text it was given as."""
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def response(workbook, filename: str) -> HttpResponse:
    answer = HttpResponse(save(workbook), content_type=XLSX)
    answer["Content-Disposition"] = f"attachment; filename*=UTF-8''{filename}"
    return answer

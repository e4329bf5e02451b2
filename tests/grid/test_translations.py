"""Texts stored in records (event notes, history reasons) are written in Chinese, so each needs a
translation: one that makemessages never picked up would be stored in English."""

import ast
import gettext
import re
from pathlib import Path

from django.conf import settings
from django.utils import translation

RECORDED = re.compile(r'recorded_text\(\s*(?:gettext_lazy|_lazy|_)\(\s*"((?:[^"\\]|\\.)+)"')


def test_every_recorded_text_has_a_chinese_translation():
    found, untranslated = 0, []
    for app in ("config", "grid", "residents", "demands", "services"):
        for path in Path(settings.BASE_DIR, app).rglob("*.py"):
            for message in RECORDED.findall(path.read_text(encoding="utf-8")):
                found += 1
                with translation.override("zh-hans"):
                    if translation.gettext(message) == message:
                        untranslated.append(f"{path.name}: {message}")
    assert found > 5
    assert not untranslated, untranslated


def _catalog_msgids(po: str):
    """(msgid, is plural) of every live entry of a .po file."""
    lines = po.splitlines()
    for index, line in enumerate(lines):
        if not line.startswith('msgid "'):
            continue
        parts, follow = [line[len("msgid ") :]], index + 1
        while follow < len(lines) and lines[follow].startswith('"'):
            parts.append(lines[follow])
            follow += 1
        msgid = "".join(ast.literal_eval(part) for part in parts)
        if index and lines[index - 1].startswith('msgctxt "'):  # compiled as "context\x04msgid"
            msgid = ast.literal_eval(lines[index - 1][len("msgctxt ") :]) + "\x04" + msgid
        if msgid:
            yield msgid, lines[follow].startswith("msgid_plural")


def test_the_chinese_catalog_translates_every_message_and_is_compiled():
    """No message left empty or fuzzy (Django shows neither), and the committed .mo holds the .po."""
    folder = Path(settings.BASE_DIR, "locale", "zh_Hans", "LC_MESSAGES")
    with open(folder / "django.mo", "rb") as compiled:
        catalog = gettext.GNUTranslations(compiled)._catalog
    messages = list(_catalog_msgids((folder / "django.po").read_text(encoding="utf-8")))
    assert len(messages) > 500
    missing = [msgid for msgid, plural in messages if not catalog.get((msgid, 0) if plural else msgid)]
    assert not missing, missing

"""Texts stored in records (event notes, history reasons) are written in Chinese, so each needs a
translation: one that makemessages never picked up would be stored in English."""

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

"""`manage.py shell` imports every model, history records included, without a warning."""

from io import StringIO

from django.core.management import call_command


def test_the_shell_imports_every_model_and_history_record_without_a_warning(capsys):
    out = StringIO()
    call_command(
        "shell",
        command="print(*(m._meta.label for m in (HistoricalTicket, HistoricalClaim, HistoricalResident)))",
        stdout=out,
        verbosity=1,
    )
    printed = capsys.readouterr().out + out.getvalue()
    assert "demands.HistoricalTicket demands.HistoricalClaim residents.HistoricalResident" in printed
    assert "could not be automatically imported" not in printed

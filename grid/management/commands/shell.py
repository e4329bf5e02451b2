"""`manage.py shell`, importing every model, the history records of every model too.

django-simple-history declares the history record of a model kept in a models package (such as
`demands.models.tickets.Ticket`) as belonging to the app's package (`demands`) while it sets it on
the model's own module, so the stock command could not import two of them and said so at start.
"""

from django.apps import apps
from django.core.management.commands import shell


class Command(shell.Command):
    def get_auto_imports(self):
        paths = []
        for model in reversed(apps.get_models()):
            # A history record lives in the module of the model it records.
            module = getattr(model, "instance_type", model).__module__
            if module:
                paths.append(f"{module}.{model.__name__}")
        return paths

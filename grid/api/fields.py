from rest_framework import serializers

from grid.scope import scope_queryset


class ScopedRelatedField(serializers.PrimaryKeyRelatedField):
    """A related object the caller may act on: the scope rule with the write permission of the
    serializer's own model (adding a node needs `add_gridnode` at the parent)."""

    def __init__(self, *, related_model, **kwargs):
        self.related_model = related_model
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        model = self.parent.Meta.model
        action = "add" if request is not None and request.method == "POST" else "change"
        permission = f"{model._meta.app_label}.{action}_{model._meta.model_name}"
        user = request.user if request is not None else None
        return scope_queryset(self.related_model._default_manager.all(), user, permission=permission)

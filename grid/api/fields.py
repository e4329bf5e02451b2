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


# Records a request may only point at where the caller can see them: the register, tickets and
# lists, services. (Nodes, units, people and party bodies are chosen through ScopedRelatedField
# or checked by the services, as a street-level unit serves communities that cannot see it.)
RECORD_APPS = {"residents", "demands", "services"}


class VisibleRelatedField(serializers.PrimaryKeyRelatedField):
    """A related record by id, among those the caller may see (the scope rule): no request may
    link a demand to another community's resident, or book for another community's project."""

    def get_queryset(self):
        queryset = super().get_queryset()
        request = self.context.get("request")
        model = queryset.model
        if (
            request is not None
            and model._meta.app_label in RECORD_APPS
            and hasattr(model, "SCOPE_NODE_FIELD")
        ):
            queryset = scope_queryset(queryset, request.user)
        return queryset


class ScopedModelSerializer(serializers.ModelSerializer):
    """The project's model serializer: related records it builds by itself are VisibleRelatedFields."""

    serializer_related_field = VisibleRelatedField

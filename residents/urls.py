from django.urls import path

from residents import views

app_name = "residents"

urlpatterns = [
    path("tables/", views.situation_tables, name="tables"),
    path("export.xlsx", views.ledger_export, name="export"),
    path("import/", views.import_start, name="import"),
    path("import/template.xlsx", views.import_template, name="import-template"),
    path("import/<int:pk>/", views.import_status, name="import-status"),
    path("import/<int:pk>/status.json", views.import_status_json, name="import-status-json"),
]

from django.urls import path

from web.audit import views

app_name = "audit"
urlpatterns = [
    path("changes/", views.ChangeListView.as_view(), name="change_list"),
    path("changes/export.csv", views.ChangeExportView.as_view(), name="change_export"),
    path("changes/<int:pk>/", views.ChangeDetailView.as_view(), name="change_detail"),
    path("history/<str:app_label>/<str:model>/<int:object_id>/", views.ObjectHistoryView.as_view(),
         name="object_history"),
]

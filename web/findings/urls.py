from django.urls import path

from web.findings import views

app_name = "findings"
urlpatterns = [
    path("", views.FindingListView.as_view(), name="finding_list"),
    path("bulk/", views.FindingBulkView.as_view(), name="finding_bulk"),
    path("<int:pk>/", views.FindingDetailView.as_view(), name="finding_detail"),
    path("<int:pk>/transition/", views.FindingMoveView.as_view(), name="finding_transition"),
    path("suppressions/", views.SuppressionListView.as_view(), name="suppression_list"),
    path("suppressions/add/", views.SuppressionFormView.as_view(), name="suppression_add"),
    path("suppressions/<int:pk>/edit/", views.SuppressionFormView.as_view(), name="suppression_edit"),
    path("disputes/", views.DisputeListView.as_view(), name="dispute_list"),
    path("disputes/<int:pk>/", views.DisputeDetailView.as_view(), name="dispute_detail"),
    path("disputes/<int:pk>/transition/", views.DisputeMoveView.as_view(), name="dispute_transition"),
    path("disputes/<int:pk>/evidence/<str:kind>/", views.EvidenceDownloadView.as_view(), name="dispute_evidence"),
]

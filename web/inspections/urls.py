from django.urls import path

from web.inspections import views

app_name = "inspections"
urlpatterns = [
    path("", views.DueListView.as_view(), name="due_list"),
    path("plans/", views.PlanListView.as_view(), name="plan_list"),
    path("plans/add/", views.PlanCreateView.as_view(), name="plan_add"),
    path("plans/<int:pk>/", views.PlanDetailView.as_view(), name="plan_detail"),
    path("plans/<int:pk>/edit/", views.PlanUpdateView.as_view(), name="plan_edit"),
    path("inspections/<int:pk>/", views.InspectionDetailView.as_view(), name="inspection_detail"),
    path("inspections/<int:pk>/perform/", views.PerformView.as_view(), name="inspection_perform"),
]

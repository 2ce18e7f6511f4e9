from django.urls import path

from web.reports import views

app_name = "reports"
urlpatterns = [
    path("", views.ReportListView.as_view(), name="report_list"),
    path("render/", views.RenderView.as_view(), name="render"),
    path("outlook/", views.OutlookView.as_view(), name="outlook"),
    path("schedules/", views.ScheduleListView.as_view(), name="schedule_list"),
    path("schedules/add/", views.ScheduleCreateView.as_view(), name="schedule_add"),
    path("schedules/<int:pk>/", views.ScheduleDetailView.as_view(), name="schedule_detail"),
    path("schedules/<int:pk>/edit/", views.ScheduleUpdateView.as_view(), name="schedule_edit"),
    path("schedules/<int:pk>/delete/", views.ScheduleDeleteView.as_view(), name="schedule_delete"),
    path("sent/", views.DeliveryListView.as_view(), name="delivery_list"),
    path("sent/<int:pk>/<str:fmt>/", views.DeliveryDownloadView.as_view(), name="delivery_file"),
]

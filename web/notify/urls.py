from django.urls import path

from web.notify import views

app_name = "notify"
urlpatterns = [
    path("outbox/", views.OutboxListView.as_view(), name="outbox"),
    path("outbox/<int:pk>/retry/", views.OutboxRetryView.as_view(), name="outbox_retry"),
    path("templates/", views.TemplateListView.as_view(), name="templates"),
    path("templates/add/", views.TemplateCreateView.as_view(), name="template_add"),
    path("templates/<int:pk>/edit/", views.TemplateUpdateView.as_view(), name="template_edit"),
]

from django.urls import path

from web.intake import views

app_name = "intake"
urlpatterns = [
    path("", views.FileListView.as_view(), name="file_list"),
    path("upload/", views.UploadView.as_view(), name="upload"),
    path("messages/", views.MessageListView.as_view(), name="message_list"),
    path("files/<int:pk>/", views.FileDetailView.as_view(), name="file_detail"),
    path("files/<int:pk>/retry/", views.RetryView.as_view(), name="file_retry"),
]

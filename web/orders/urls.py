from django.urls import path

from web.orders import views

app_name = "orders"
urlpatterns = [
    path("", views.OrderListView.as_view(), name="order_list"),
    path("new/<str:kind>/", views.OrderCreateView.as_view(), name="order_add"),
    path("<int:pk>/", views.OrderDetailView.as_view(), name="order_detail"),
    path("<int:pk>/transition/", views.TransitionView.as_view(), name="order_transition"),
    path("<int:pk>/comment/", views.CommentView.as_view(), name="order_comment"),
    path("<int:pk>/attach/", views.AttachView.as_view(), name="order_attach"),
    path("<int:pk>/recovery/", views.RecoveryItemView.as_view(), name="order_recovery"),
    path("steps/<int:pk>/assign/", views.StepAssignView.as_view(), name="step_assign"),
    path("attachments/<int:pk>/download/", views.AttachmentDownloadView.as_view(), name="attachment_download"),
]

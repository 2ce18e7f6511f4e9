from django.urls import path

from web.credits import views

app_name = "credits"
urlpatterns = [
    path("", views.MatchListView.as_view(), name="match_list"),
    path("<int:pk>/", views.MatchDetailView.as_view(), name="match_detail"),
    path("<int:pk>/confirm/", views.ConfirmView.as_view(), name="match_confirm"),
    path("<int:pk>/reject/", views.RejectView.as_view(), name="match_reject"),
    path("rows/<int:pk>/link/", views.LinkView.as_view(), name="row_link"),
]

from django.urls import path

from web.accounts import views

app_name = "accounts"
urlpatterns = [
    path("tokens/", views.TokenListView.as_view(), name="token_list"),
    path("tokens/<int:pk>/revoke/", views.TokenRevokeView.as_view(), name="token_revoke"),
]

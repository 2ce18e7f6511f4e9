from django.urls import path

from web.inventory import views

app_name = "inventory"
urlpatterns = [
    path("lines/", views.LineListView.as_view(), name="line_list"),
    path("lines/add/", views.LineCreateView.as_view(), name="line_add"),
    path("lines/<int:pk>/", views.LineDetailView.as_view(), name="line_detail"),
    path("lines/<int:pk>/edit/", views.LineUpdateView.as_view(), name="line_edit"),
    path("carriers/<int:pk>/", views.CarrierDetailView.as_view(), name="carrier_detail"),
    path("sites/<int:pk>/", views.SiteDetailView.as_view(), name="site_detail"),
]

from django.urls import path

from web.faults import figures_views, views

app_name = "faults"
urlpatterns = [
    path("", views.TicketListView.as_view(), name="ticket_list"),
    path("add/", views.TicketCreateView.as_view(), name="ticket_add"),
    path("causes/", views.RecurringCausesView.as_view(), name="causes"),
    path("claims/", views.SlaClaimListView.as_view(), name="claim_list"),
    path("figures/", figures_views.FiguresView.as_view(), name="figures"),
    path("claims/<int:pk>/state/", views.SlaClaimStateView.as_view(), name="claim_state"),
    path("<int:pk>/", views.TicketDetailView.as_view(), name="ticket_detail"),
    path("<int:pk>/step/<str:step>/", views.TicketStepView.as_view(), name="ticket_step"),
    path("<int:pk>/comment/", views.TicketCommentView.as_view(), name="ticket_comment"),
    path("<int:pk>/edit/", views.TicketEditView.as_view(), name="ticket_edit"),
]

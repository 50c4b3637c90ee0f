from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

from ads.api import api

admin.site.site_header = "Ad budget control"
admin.site.site_title = "Ad budget control"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
]

from django.contrib import admin
from django.urls import path

admin.site.site_header = "Ad budget control"
admin.site.site_title = "Ad budget control"

urlpatterns = [
    path("admin/", admin.site.urls),
]

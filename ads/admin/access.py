"""Per-brand access: the one place that narrows what a non-superuser sees.

Every ModelAdmin of brand-owned data mixes in ``BrandScoped`` and names the path from its
model to the brand. Lists, change pages, actions (they act on the list's queryset),
autocompletes (they search ``get_queryset``) and form choices then follow from it; an
object of another brand answers 404, as one that does not exist.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Field, QuerySet
from django.http import Http404, HttpRequest

from ads.models import AdAccount, Brand, BrandAccess, Campaign, SharedBudget
from ads.services.access import allowed_brand_ids


def brand_filter(queryset: QuerySet[Any], request: HttpRequest, path: str) -> QuerySet[Any]:
    """``queryset`` narrowed to the brands of the request's user (``path``: from the model
    to its brand, "" for brands themselves)."""
    allowed = allowed_brand_ids(request.user)
    if allowed is None:
        return queryset
    return queryset.filter(**{f"{path}__in" if path else "pk__in": allowed})


def visible_brands(request: HttpRequest) -> QuerySet[Brand]:
    return brand_filter(Brand.objects.all(), request, "")


class BrandScoped:
    brand_path = "brand"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)  # type: ignore[misc]
        return brand_filter(queryset, request, self.brand_path)

    def get_object(self, request: HttpRequest, object_id: str, from_field: Any = None) -> Any:
        found = super().get_object(request, object_id, from_field)  # type: ignore[misc]
        if found is None:
            # Another brand's object is answered as one that does not exist.
            raise Http404("No such object, or not one of your brands.")
        return found

    def formfield_for_foreignkey(
        self, db_field: Field[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> Any:
        if db_field.related_model is Brand:
            kwargs["queryset"] = visible_brands(request)
        elif db_field.related_model is Campaign:
            kwargs["queryset"] = brand_filter(Campaign.objects.all(), request, "brand")
        elif db_field.related_model is AdAccount:
            kwargs["queryset"] = brand_filter(AdAccount.objects.all(), request, "brand")
        elif db_field.related_model is SharedBudget:
            kwargs["queryset"] = brand_filter(SharedBudget.objects.all(), request, "brand")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]

    def formfield_for_manytomany(
        self, db_field: Field[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> Any:
        if db_field.related_model is Brand:
            kwargs["queryset"] = visible_brands(request)
        return super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]


class BrandAccessInline(admin.TabularInline):  # type: ignore[type-arg]
    model = BrandAccess
    extra = 1
    autocomplete_fields = ["brand"]
    verbose_name = "brand this user may see and change"
    verbose_name_plural = "Brands this user may see and change (superusers: every brand)"

    # Only superusers grant access: a staff member allowed to edit users must not be able
    # to widen their own reach.
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(UserAdmin):  # type: ignore[type-arg]
    inlines = [BrandAccessInline]

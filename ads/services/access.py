"""Which brands a staff user may see and change (superusers: all)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet

from ads.models import Brand, BrandAccess


def allowed_brand_ids(user: Any) -> QuerySet[BrandAccess, int] | None:
    """The ids of the brands ``user`` may see, as a subquery; None for every brand."""
    if getattr(user, "is_superuser", False):
        return None
    return BrandAccess.objects.filter(user_id=user.pk).values_list("brand_id", flat=True)


def brands_resolve(names_or_ids: Sequence[str]) -> list[Brand]:
    """Brands by id or by case-insensitive name; ValidationError naming any not found."""
    found: list[Brand] = []
    missing: list[str] = []
    for given in names_or_ids:
        match = Q(name__iexact=given.strip())
        if given.strip().isdigit():
            match |= Q(pk=int(given))
        brands = list(Brand.objects.filter(match)[:2])
        if len(brands) == 1:
            found.append(brands[0])
        else:
            missing.append(given)
    if missing:
        raise ValidationError(f"No single brand with id or name: {', '.join(missing)}")
    return found


@dataclass(frozen=True)
class AccessChange:
    username: str
    changed: list[str]  # brand names granted or revoked now
    unchanged: list[str]  # already so
    now: list[str]  # every brand the user has after the change


def brand_access_grant(
    *, username: str, brands: Sequence[str], revoke: bool = False
) -> AccessChange:
    """Grant (or revoke) a user's access to brands named by id or name. Safe to run twice."""
    try:
        user = get_user_model().objects.get(username=username)
    except ObjectDoesNotExist:
        raise ValidationError(f"No user named {username!r}") from None
    resolved = brands_resolve(brands)
    with transaction.atomic():
        held = set(
            BrandAccess.objects.filter(user=user, brand__in=resolved).values_list(
                "brand_id", flat=True
            )
        )
        if revoke:
            changed = [b for b in resolved if b.pk in held]
            BrandAccess.objects.filter(user=user, brand__in=changed).delete()
        else:
            changed = [b for b in resolved if b.pk not in held]
            BrandAccess.objects.bulk_create(
                [BrandAccess(user=user, brand=b) for b in changed], ignore_conflicts=True
            )
    return AccessChange(
        username=username,
        changed=sorted(b.name for b in changed),
        unchanged=sorted(b.name for b in resolved if b not in changed),
        now=sorted(BrandAccess.objects.filter(user=user).values_list("brand__name", flat=True)),
    )

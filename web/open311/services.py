"""The city's complaint categories as Open311 services, and each one's service definition
(its attributes, from the city pack), in the current locale."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.i18n import get_locale

if TYPE_CHECKING:
    from storage.city import CategoryInfo, City


def service(category: CategoryInfo, city: City) -> dict[str, Any]:
    """One service, as services.json lists it."""
    description = category.hint()
    if category.referral():
        description += " " + category.referral()
    agency = city.agency(category.agency_key)
    return {
        "service_code": category.key,
        "service_name": category.name(),
        "description": description,
        "metadata": bool(category.attributes),
        # A request is filed at once: its id (the ticket) is in the answer to the POST.
        "type": "realtime",
        "keywords": ", ".join(category.keywords.get(get_locale())
                              or category.keywords.get("id") or []) or None,
        "group": agency.short_name if agency is not None else None,
    }


def definition(category: CategoryInfo) -> dict[str, Any]:
    """The service definition: the questions of the category beyond the description."""
    return {
        "service_code": category.key,
        "attributes": [
            {
                "variable": attribute.variable,
                "code": attribute.code,
                "datatype": attribute.datatype,
                "required": attribute.required,
                "datatype_description": attribute.datatype_description(),
                "order": order,
                "description": attribute.description(),
                "values": [{"key": value.key, "name": value.name()}
                           for value in attribute.values] or None,
            }
            for order, attribute in enumerate(category.attributes, start=1)
        ],
    }

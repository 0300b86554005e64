"""A partner's POSTed request, read and checked before anything is written: the service, the
place (a point in Binjai, or an address naming a kelurahan), the service definition's
attributes, the contact and the media URL. Every mistake is named, in the reader's language."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from bot.i18n import _, format_datetime, use_locale
from bot.labels import RECORD_LOCALE
from reports.partners import Contact
from storage.phone import to_e164

if TYPE_CHECKING:
    from storage.city import AttributeInfo, CategoryInfo, City

DESCRIPTION_MAX = 4000
ADDRESS_MAX = 500
EMAIL_MAX = 254
NAME_MAX = 100
PHONE_MAX = 32
URL_MAX = 2000
ID_MAX = 128
STRING_MAX = 200
TEXT_MAX = 2000
ECHO_MAX = 64
ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]*)\](\[\])?$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Refused(Exception):  # noqa: N818 - the request is refused, with reasons
    """The request cannot be filed: an HTTP status and what is wrong, one line each."""

    def __init__(self, status: int, *problems: str) -> None:
        super().__init__("; ".join(problems))
        self.status = status
        self.problems = list(problems)


def echo(value: str) -> str:
    """A value the partner sent, shortened for an error message."""
    flat = " ".join(value.split())
    return flat if len(flat) <= ECHO_MAX else flat[: ECHO_MAX - 1] + "…"


class Fields:
    """The request's fields: the form body first, then the query string (the swagger puts
    them there)."""

    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        self.pairs = list(pairs)

    def get(self, name: str) -> str | None:
        """The first non-empty value of a field, stripped; None when it is absent or empty."""
        for key, value in self.pairs:
            if key == name and value.strip():
                return value.strip()
        return None

    def attributes(self) -> tuple[dict[str, list[str]], bool]:
        """attribute[code]=value and attribute[code][]=value pairs, by code; and whether a
        bare `attribute` field (not the specification's form) was sent."""
        found: dict[str, list[str]] = {}
        bare = False
        for key, value in self.pairs:
            if key in ("attribute", "attribute[]"):
                bare = bare or bool(value.strip())
                continue
            matched = ATTRIBUTE.match(key)
            if matched and value.strip():
                found.setdefault(matched.group(1), []).append(value.strip())
        return found, bare


@dataclass(slots=True)
class Intake:
    """A request ready to be filed."""

    category: CategoryInfo
    kelurahan_code: str
    lat: float | None
    lon: float | None
    address: str | None
    description: str
    contact: Contact
    media_url: str | None = None
    device_id: str | None = None
    account_id: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


def _limited(fields: Fields, name: str, limit: int, problems: list[str]) -> str | None:
    value = fields.get(name)
    if value is not None and len(value) > limit:
        problems.append(_("{field} is longer than {n} characters.").format(field=name, n=limit))
        return None
    return value


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def parse_moment(text: str, city: City) -> datetime | None:
    """An RFC 3339 (or ISO 8601) date and time; without an offset it is the city's time."""
    try:
        moment = datetime.fromisoformat(text.strip().replace(" ", "T", 1))
    except ValueError:
        return None
    if not 1900 <= moment.year <= 9000:  # far outside any report, and past what UTC holds
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=city.tz)
    return moment


def _place(fields: Fields, city: City, problems: list[str]
           ) -> tuple[str | None, float | None, float | None, str | None]:
    """(kelurahan code, lat, long, address) from lat/long or address_string."""
    lat_text, lon_text = fields.get("lat"), fields.get("long")
    address = _limited(fields, "address_string", ADDRESS_MAX, problems)
    if (lat_text is None) != (lon_text is None):
        problems.append(_("lat and long go together: send both, or neither."))
        return None, None, None, address
    if lat_text is not None and lon_text is not None:
        lat, lon = _number(lat_text), _number(lon_text)
        if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
            problems.append(_("lat and long must be numbers: WGS84 degrees of latitude "
                              "(-90 to 90) and longitude (-180 to 180)."))
            return None, None, None, address
        located = city.locate(lat, lon)
        if located is not None:
            return located.kelurahan_code, lat, lon, address
        if not city.in_city(lat, lon):
            problems.append(_("The point {lat}, {long} is outside {city}: requests can only be "
                              "filed for places in the city.").format(
                                  lat=lat_text, long=lon_text, city=city.name))
            return None, None, None, address
        # Inside the city but the pack has no boundaries: the address must name the kelurahan.
        if address is None:
            problems.append(_("The kelurahan of that point is not known: add an "
                              "address_string that names it."))
            return None, None, None, address
        code = _kelurahan_named(address, city)
        if code is None:
            problems.append(_("address_string does not name a kelurahan of {city}.").format(
                city=city.name))
        return code, lat, lon, address
    if address is None:
        if fields.get("address_id") is not None:
            problems.append(_("address_id is not supported here: send lat and long, or an "
                              "address_string."))
        else:
            problems.append(_("A location is required: send lat and long, or an "
                              "address_string."))
        return None, None, None, None
    code = _kelurahan_named(address, city)
    if code is None:
        problems.append(_("address_string does not name a kelurahan of {city}: send lat and "
                          "long, or name the kelurahan in it.").format(city=city.name))
    return code, None, None, address


def _kelurahan_named(address: str, city: City) -> str | None:
    matches, confident = city.match_kelurahan(address)
    return matches[0].code if matches and confident else None


def _contact(fields: Fields, problems: list[str]) -> Contact:
    email = _limited(fields, "email", EMAIL_MAX, problems)
    if email is not None and not EMAIL.match(email):
        problems.append(_("email is not an email address."))
        email = None
    phone_text = _limited(fields, "phone", PHONE_MAX, problems)
    phone = to_e164(phone_text) if phone_text is not None else None
    if phone_text is not None and phone is None:
        problems.append(_("phone is not a phone number."))
    return Contact(email=email, phone=phone,
                   first_name=_limited(fields, "first_name", NAME_MAX, problems),
                   last_name=_limited(fields, "last_name", NAME_MAX, problems))


def _media_url(fields: Fields, problems: list[str]) -> str | None:
    url = _limited(fields, "media_url", URL_MAX, problems)
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or any(
            ch.isspace() for ch in url):
        problems.append(_("media_url must be an http or https address."))
        return None
    return url


def _answer(attribute: AttributeInfo, values: list[str], service: str, city: City,
            problems: list[str]) -> Any:
    """One attribute's checked value (a list for a multivaluelist), or None with a problem."""
    code = attribute.code
    if attribute.datatype == "multivaluelist":
        unknown = [v for v in values if attribute.value(v) is None]
        if unknown:
            problems.append(_("“{value}” is not a value of attribute[{code}]; see "
                              "services/{service}.json.").format(
                                  value=echo(unknown[0]), code=code, service=service))
            return None
        return list(dict.fromkeys(values))
    if len(values) > 1:
        problems.append(_("attribute[{code}] takes one value.").format(code=code))
        return None
    value = values[0]
    if attribute.datatype == "singlevaluelist":
        if attribute.value(value) is None:
            problems.append(_("“{value}” is not a value of attribute[{code}]; see "
                              "services/{service}.json.").format(
                                  value=echo(value), code=code, service=service))
            return None
        return value
    if attribute.datatype == "number":
        number = _number(value)
        if number is None:
            problems.append(_("attribute[{code}] must be a number.").format(code=code))
            return None
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    if attribute.datatype == "datetime":
        moment = parse_moment(value, city)
        if moment is None:
            problems.append(_("attribute[{code}] must be a date and time (RFC 3339, e.g. "
                              "2026-12-07T09:00:00+07:00).").format(code=code))
            return None
        return moment.astimezone(city.tz).isoformat(timespec="seconds")
    limit = TEXT_MAX if attribute.datatype == "text" else STRING_MAX
    if len(value) > limit:
        problems.append(_("attribute[{code}] is longer than {n} characters.").format(
            code=code, n=limit))
        return None
    return value


def _attributes(fields: Fields, category: CategoryInfo, city: City,
                problems: list[str]) -> dict[str, Any]:
    sent, bare = fields.attributes()
    if bare:
        problems.append(_("Attributes are sent as attribute[code]=value; see "
                          "services/{service}.json.").format(service=category.key))
    questions = {a.code: a for a in category.attributes if a.variable}
    answers: dict[str, Any] = {}
    for code, values in sent.items():
        attribute = questions.get(code)
        if attribute is None:
            if any(a.code == code for a in category.attributes):
                continue  # information only: nothing to answer
            problems.append(_("attribute[{code}] is not an attribute of service "
                              "{service}.").format(code=echo(code), service=category.key))
            continue
        value = _answer(attribute, values, category.key, city, problems)
        if value is not None:
            answers[code] = value
    for attribute in questions.values():
        if attribute.required and attribute.code not in answers and attribute.code not in sent:
            problems.append(_("attribute[{code}] is required for service {service}.").format(
                code=attribute.code, service=category.key))
    return answers


def staff_description(intake: Intake, city: City) -> str:
    """The report's text for staff: the partner's description, then the attributes' answers,
    in the city's own language."""
    lines = [intake.description] if intake.description else []
    with use_locale(RECORD_LOCALE):
        answered = []
        for attribute in intake.category.attributes:
            value = intake.attributes.get(attribute.code)
            if value is None:
                continue
            if attribute.datatype in ("singlevaluelist", "multivaluelist"):
                keys = value if isinstance(value, list) else [value]
                shown = ", ".join(found.name() for key in keys
                                  if (found := attribute.value(key)) is not None)
            elif attribute.datatype == "datetime":
                moment = parse_moment(str(value), city)
                shown = format_datetime(moment) if moment is not None else str(value)
            else:
                shown = str(value)
            answered.append(f"{attribute.description()} {shown}"
                            if attribute.description().endswith("?")
                            else f"{attribute.description()}: {shown}")
        if answered:
            lines.append("\n".join(answered))
        if not lines:
            lines.append(_("(no description)"))
    return "\n\n".join(lines)


def read_request(fields: Fields, city: City) -> Intake:
    """Check everything a POSTed request carries; raises Refused (404 for an unknown service,
    else 400 naming every mistake)."""
    code = fields.get("service_code")
    if code is None:
        raise Refused(400, _("service_code is required: see services.json."))
    category = city.category(code)
    if category is None:
        raise Refused(404, _("service_code “{code}” is not a service of {city}: see "
                             "services.json.").format(code=echo(code), city=city.name))
    problems: list[str] = []
    kelurahan, lat, lon, address = _place(fields, city, problems)
    description = _limited(fields, "description", DESCRIPTION_MAX, problems) or ""
    intake = Intake(
        category=category, kelurahan_code=kelurahan or "", lat=lat, lon=lon, address=address,
        description=description, contact=_contact(fields, problems),
        media_url=_media_url(fields, problems),
        device_id=_limited(fields, "device_id", ID_MAX, problems),
        account_id=_limited(fields, "account_id", ID_MAX, problems),
        attributes=_attributes(fields, category, city, problems))
    if problems:
        raise Refused(400, *problems)
    return intake

"""Times as residents and staff read them: in WIB, with the locale's own day and month names,
written the same way whether a page shows one or a thousand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from babel.dates import format_date as babel_date
from babel.dates import format_datetime as babel_datetime
from hypothesis import given
from hypothesis import strategies as st

from bot.i18n import DAY, MOMENT, TZ, format_date, format_datetime, use_locale

# Hypothesis takes naive bounds and puts each moment in one of the zones.
MOMENTS = st.datetimes(min_value=datetime(1990, 1, 1),  # noqa: DTZ001
                       max_value=datetime(2100, 1, 1),  # noqa: DTZ001
                       timezones=st.sampled_from([UTC, TZ, timezone(timedelta(hours=-5))]))


def test_a_moment_reads_as_people_in_binjai_write_it() -> None:
    moment = datetime(2026, 12, 7, 7, 5, tzinfo=UTC)  # 14.05 in Binjai
    with use_locale("id"):
        assert format_datetime(moment) == "Senin, 7 Des 2026 14.05 WIB"
        assert format_date(moment) == "Senin, 7 Des 2026"
    with use_locale("en"):
        assert format_datetime(moment) == "Monday, 7 Dec 2026 14:05 WIB"
    # Past midnight in Binjai, still the day before in UTC.
    with use_locale("id"):
        assert format_date(datetime(2026, 12, 31, 17, 30, tzinfo=UTC)) == "Jumat, 1 Jan 2027"


@given(moment=MOMENTS, locale=st.sampled_from(["id", "en"]))
def test_every_moment_is_written_as_babel_writes_the_pattern(moment: datetime,
                                                             locale: str) -> None:
    with use_locale(locale):
        assert format_datetime(moment) == babel_datetime(
            moment, format=MOMENT[locale], tzinfo=TZ, locale=locale) + " WIB"
        assert format_date(moment) == babel_date(
            moment.astimezone(TZ).date(), format=DAY, locale=locale)

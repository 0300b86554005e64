"""e-Masyarakat bot for Kota Binjai: reports, city-app help and announcements over chat."""

__version__ = "0.1.0"

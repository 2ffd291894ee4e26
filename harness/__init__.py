"""epson-hil: hardware-in-the-loop certification of Epson devices' OAuth 2.0 e-mail with Microsoft."""

__version__ = "0.1.0"

# _engine.py: the mpire-glib library through GObject-Introspection, and
# the two conversions every chunk goes through (bytes <-> GLib.Variant 'ay').
#
# SPDX-License-Identifier: MIT

import gi

gi.require_version('GLib', '2.0')
gi.require_version('Gio', '2.0')
gi.require_version('Mpire', '1.0')
from gi.repository import GLib, Gio, Mpire  # noqa: E402,F401

_BYTES_TYPE = GLib.VariantType.new('ay')


def variant_of_bytes(data):
    """A GLib.Variant 'ay' holding @data (one copy)."""
    return GLib.Variant.new_from_bytes(_BYTES_TYPE, GLib.Bytes.new(data), True)


def bytes_of(variant):
    """The bytes of a GLib.Variant 'ay'."""
    return variant.get_data_as_bytes().get_data()

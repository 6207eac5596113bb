"""Time-ordered identifiers (UUID version 7, RFC 9562).

Python 3.11 has no ``uuid.uuid7``; these are the same bits: a 48-bit Unix timestamp in
milliseconds, then random bits. New rows land at the end of the primary-key index, and the id
sorts with ``created_at``.
"""

import os
import time
import uuid


def uuid7() -> uuid.UUID:
    unix_ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")  # 80 bits; 74 are used
    value = (unix_ms & 0xFFFF_FFFF_FFFF) << 80
    value |= 0x7 << 76  # version
    value |= ((rand >> 68) & 0xFFF) << 64  # rand_a, 12 bits
    value |= 0b10 << 62  # variant
    value |= rand & 0x3FFF_FFFF_FFFF_FFFF  # rand_b, 62 bits
    return uuid.UUID(int=value)

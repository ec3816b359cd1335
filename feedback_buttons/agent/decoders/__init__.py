"""Satisfaction keypad decoders: bytes in, events out. Pure: no serial port, no clock, no server.

A decoder is fed the bytes of one port as they arrive, in chunks of any size, and returns what it can decide
so far: `Press` (a button or a level), `Heartbeat`, or `Dropped` (garbage, a partial frame, a bad checksum,
an out-of-range button, a retransmission). Feeding any split of a byte stream gives the same events as feeding
it whole (every decision depends on the bytes only, never on where a chunk ended); `flush()` at the end of the
stream (port closed) reports what was left over as a partial frame. Nothing raises on bad input.

Decoders are pluggable: `register("name")` adds a class to the registry, and `create()` also accepts
"package.module:Class" for a decoder that lives outside this project.

Built in:
  qms-line     the project's own ASCII line protocol (docs/keypad-protocol.md): device id, sequence number,
               button or level, CRC-8, heartbeat, optional acknowledgement from the host
  ascii-line   vendor USB-serial keypads sending short lines such as `K03,2`, read by a configurable pattern
  rs485-frame  binary multi-drop frames: start byte, address, button, checksum, end byte (layout configurable)
  keyboard     Linux input events (/dev/input/event*) of a USB keypad that types keys 1-9
"""
from __future__ import annotations

from feedback_buttons.agent.decoders.base import (_REGISTRY, REASONS, SAMPLE, Decoder, Dropped, Event, Heartbeat, Press,
                                                  create, decoder_class, names, register)
from feedback_buttons.agent.decoders.binary import (INPUT_EVENT, KeyboardDecoder, Rs485FrameDecoder, key_event,
                                                    rs485_frame)
from feedback_buttons.agent.decoders.lines import (DEFAULT_PATTERN, AsciiLineDecoder, QmsLineDecoder, check_pattern,
                                                   qms_frame)

__all__ = ["_REGISTRY", "AsciiLineDecoder", "DEFAULT_PATTERN", "Decoder", "Dropped", "Event", "Heartbeat",
           "INPUT_EVENT", "KeyboardDecoder", "Press", "QmsLineDecoder", "REASONS", "Rs485FrameDecoder", "SAMPLE",
           "check_pattern", "create", "decoder_class", "key_event", "names", "qms_frame", "register", "rs485_frame"]

"""The centre's configuration: config.yaml, validated by pydantic.

Every problem is reported once, with its key path and (where the YAML gives it) its line, and nothing
starts on a bad file. Cross-field rules (overlapping number ranges, a counter naming an unknown service,
duplicate ids) are checked here too, so the engine can trust what it is given.

The modules, one responsibility each:
- base: the strict frozen model every section derives from, the id pattern, issuing windows;
- centre: the centre, hours, departments, services, number ranges, counters, priority, staff, catalogue;
- settings: server, queue options, voice, rating scale and its flags;
- devices: printers, kiosks, displays, LED boards, keypads, agents, dispensers;
- model: CentreConfig, the whole file, with its lookups;
- dossiers: the dossier look-up's source and return-of-results service;
- checks: the rules spanning several keys;
- loader: YAML with line numbers, ConfigError, parse_config and load_config;
- keys: every key as a dotted path, for the documentation test.
"""
from queue_server.config.base import ID_PATTERN, WEEKDAYS, Model, Window
from queue_server.config.centre import (Catalogue, Centre, CounterConfig, Department, Hours, Numbering, Priority,
                                        PriorityGroup, Service, StaffAccount)
from queue_server.config.checks import cross_check
from queue_server.config.devices import (KEYPAD_DECODERS, Agent, DevicesConfig, Dispenser, Display, Keypad, KeypadFrame,
                                         Kiosk, LedBoard, Printer)
from queue_server.config.dossiers import DossierHttp, Dossiers
from queue_server.config.keys import documented_keys
from queue_server.config.loader import ConfigError, load_config, parse_config
from queue_server.config.model import CentreConfig
from queue_server.config.settings import Queue, Rating, RatingFlags, RatingLevel, Server, Voice

__all__ = [
    "ID_PATTERN", "KEYPAD_DECODERS", "WEEKDAYS",
    "Agent", "Catalogue", "Centre", "CentreConfig", "ConfigError", "CounterConfig", "Department", "DevicesConfig",
    "Dispenser", "Display", "DossierHttp", "Dossiers", "Hours", "Keypad", "KeypadFrame", "Kiosk", "LedBoard", "Model", "Numbering",
    "Printer", "Priority", "PriorityGroup", "Queue", "Rating", "RatingFlags", "RatingLevel", "Server",
    "Service", "StaffAccount", "Voice", "Window",
    "cross_check", "documented_keys", "load_config", "parse_config",
]

"""The addresses of the centre's device pages: kiosks, hall and counter displays, rating tablets.

With `centre.demo` each address carries the device's demo token (`?token=...`), so the link printed by
`qms serve` (`make run`) or clicked on the start page opens a working device at once; the page keeps the
token and removes it from its address bar. A real centre's links carry no token: a kiosk then shows
"Máy đang bảo trì" until staff set it up (`devices.kiosks[].setup_pin`), a display runs anonymously.
A rating tablet at a counter uses that counter's display token, when the counter has a counter display.
"""
from __future__ import annotations

from urllib.parse import quote

KIND_TITLES = {"kiosk": ("Máy lấy số", "Kiosk"), "display": ("Màn hình", "Display"),
               "tablet": ("Máy đánh giá", "Rating tablet")}


def device_links(config, base: str = "") -> list[dict]:
    """[{kind, id, name, url}], kiosks first, then displays, then rating tablets."""
    demo = config.centre.demo

    def url(path: str, token: str) -> str:
        return f"{base}{path}" + (f"?token={quote(token, safe='')}" if demo and token else "")

    links = [{"kind": "kiosk", "id": k.id, "name": k.name or k.id, "url": url(f"/kiosk/{quote(k.id)}", k.token)}
             for k in config.devices.kiosks]
    links += [{"kind": "display", "id": d.id, "name": d.name or d.id, "url": url(f"/display/{quote(d.id)}", d.token)}
              for d in config.devices.displays]
    for d in config.devices.displays:
        if d.kind == "counter" and d.counter:
            c = config.counter(d.counter)
            links.append({"kind": "tablet", "id": c.id, "name": c.name or f"Quầy {c.number}",
                          "url": url(f"/rate/{quote(c.id)}", d.token)})
    return links


def print_links(config, base: str, out) -> None:
    """The device links as `qms serve` prints them, one a line."""
    for link in device_links(config, base):
        title = KIND_TITLES[link["kind"]][1].lower()
        print(f"  {title:<16} {link['url']}   ({link['name']})", file=out)

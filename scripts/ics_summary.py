#!/usr/bin/env python3
"""Reads an iCalendar document on stdin with the `icalendar` package (an independent parser)
and prints its calendar name and events as JSON, for the server's feed test."""
import json
import sys

import icalendar

calendar = icalendar.Calendar.from_ical(sys.stdin.buffer.read())
events = []
for event in calendar.walk("VEVENT"):
    events.append({
        "uid": str(event.get("uid")),
        "summary": str(event.get("summary")),
        "description": str(event.get("description", "")),
        "start": event.decoded("dtstart").isoformat(),
        "end": event.decoded("dtend").isoformat(),
        "url": str(event.get("url", "")),
        "status": str(event.get("status", "")),
        "categories": [str(c) for cats in [event.get("categories")] if cats for c in cats.cats],
    })
print(json.dumps({"name": str(calendar.get("x-wr-calname", "")), "events": events}))

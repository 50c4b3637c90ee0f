"""The protocol fakes of `make run`'s demo, served until stopped (a Procfile process)."""

from __future__ import annotations

import os
import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from devtools.fakes.demo import DemoFakesError, demo_fakes, fakes_serve


class Command(BaseCommand):
    help = (
        "Serve a fake Google Ads API (gRPC) and a fake Meta Graph API (HTTP) on 127.0.0.1 for "
        "the demo ad accounts of seed_data, at the ports their credentials variables "
        "(DEMO_GOOGLE_ADS, DEMO_META) name, until SIGINT or SIGTERM. `make run` starts it."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        previous = {
            signum: signal.signal(signum, lambda *_: stop.set())
            for signum in (signal.SIGINT, signal.SIGTERM)
        }

        def say(text: str) -> None:
            self.stdout.write(text)
            self.stdout.flush()  # a pipe under `make run`: show it now, not at exit

        try:
            fakes = demo_fakes(environ=os.environ, at=timezone.now())
            fakes_serve(fakes, stop=stop, say=say)
        except DemoFakesError as exc:
            raise CommandError(str(exc)) from None
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        say("fakes stopped")

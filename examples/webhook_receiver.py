"""A bare webhook endpoint for trying gosim by hand: saves each delivery's raw body and signature, answers 200."""

from __future__ import annotations

import argparse
import re
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8082, help="demo-bank's registered webhook port (8082)")
    parser.add_argument("--out", default="hooks", help="directory for <event id>.body and <event id>.sig")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            event = re.sub(r"[^A-Za-z0-9_]", "", self.headers.get("X-Gosim-Event-Id", "unknown"))
            # Raw bytes: the signature covers the body exactly as sent.
            (out / f"{event}.body").write_bytes(body)
            (out / f"{event}.sig").write_text(self.headers.get("X-Gosim-Signature", ""))
            print(self.headers.get("X-Gosim-Event-Type"), event, flush=True)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()

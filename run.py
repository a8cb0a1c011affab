"""Start the chat server: read the command line, build the app, listen, print the URLs."""

import argparse
import asyncio
import dataclasses
import errno
import gc
import logging
import math
import os
import re
import signal
import socket
import sys
from collections.abc import Callable

import tornado.netutil

from chat import hostkey
from chat.addresses import banner, every_url, lan_addresses, share_urls
from chat.app import make_app, shutdown
from chat.config import Settings
from chat.gate import make_server, raise_file_limit
from chat.hostkey import host_links
from chat.hub import Unavailable
from chat.store import StoreError
from chat.workers import fork_workers

log = logging.getLogger("chat")

# A server's objects are mostly its connections, alive for as long as they are open; at
# Python's defaults (700, 10, 10) the collector walks them over and over for cycles they
# do not make (10,000 connecting: 1.8 s of pauses, nothing collected; bench/README.md).
COLLECT_AFTER = (50_000, 20, 10)  # new objects before a young pass; young, middle passes


def tune_collector() -> None:
    """Let the garbage collector run less often than Python's defaults (COLLECT_AFTER)."""
    gc.set_threshold(*COLLECT_AFTER)


def in_range(
    kind: Callable[[str], float], minimum: float, maximum: float = math.inf
) -> Callable[[str], float]:
    """Return an argparse type: `kind` (int or float) of the text, from minimum to maximum."""
    name = "a whole number" if kind is int else "a number"

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {name}") from None
        if not minimum <= value <= maximum:  # `not` also refuses nan
            allowed = f"{minimum} or more" if maximum == math.inf else f"{minimum} to {maximum}"
            raise argparse.ArgumentTypeError(f"{text} is out of range: use {allowed}")
        return value

    return parse


def add_room_options(parser: argparse.ArgumentParser, defaults: Settings) -> None:
    """Add the options of the room itself: where it listens, what it keeps."""
    group = parser.add_argument_group("the room")
    group.add_argument("--port", type=in_range(int, 1, 65535), default=defaults.port,
                        help="TCP port to listen on (default: %(default)s)")
    group.add_argument("--host", default=defaults.host,
                        help="address to listen on; the default %(default)s means every "
                             "interface, so classmates on the network can join")
    group.add_argument("--max-text", type=in_range(int, 1), default=defaults.max_text,
                        help="longest message, in characters (default: %(default)s)")
    group.add_argument("--history", type=in_range(int, 0), default=defaults.history,
                        help="how many recent messages a newcomer sees (default: %(default)s)")
    group.add_argument("--db", default=str(defaults.db),
                        help="SQLite file that keeps the history across restarts "
                             "(default: chat.db next to run.py; :memory: keeps nothing)")
    group.add_argument("--allow-origin", action="append", default=[], metavar="ORIGIN",
                        help="let pages from this other site connect, e.g. "
                             "http://teacher.local:3000 (repeatable; exact match)")
    group.add_argument("--debug", action="store_true",
                        help="log every event and reload when the code changes")


def add_host_options(parser: argparse.ArgumentParser, defaults: Settings) -> None:
    """Add the options of the host key, the secret of the link that runs the room."""
    group = parser.add_argument_group("the host").add_mutually_exclusive_group()
    group.add_argument("--host-key", type=given_key, metavar="KEY",
                       default=os.environ.get("CHAT_HOST_KEY") or defaults.host_key,
                       help="the host link's key, 22 to 128 letters, digits, - or _ (default: "
                            "the CHAT_HOST_KEY environment variable, else the key kept in the "
                            "database, or in Redis for a cluster, else a new one)")
    group.add_argument("--new-host-key", action="store_true",
                       help="make a new host key: every old host link stops working")


def given_key(value: str) -> str:
    """Check a key given on the command line (argparse says what is wrong)."""
    try:
        return hostkey.check_given(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_limit_options(parser: argparse.ArgumentParser, defaults: Settings) -> None:
    """Add the options that bound what one address, or everyone, may cost."""
    group = parser.add_argument_group("limits (against floods and hoarding)")
    group.add_argument("--rate", type=in_range(float, 0), default=defaults.rate,
                        help="messages a second one address may send on average, over all "
                             "its connections; 0 turns the limit off (default: %(default)s)")
    group.add_argument("--burst", type=in_range(int, 1), default=defaults.burst,
                        help="messages one address may send at once (default: %(default)s)")
    group.add_argument("--max-per-ip", type=in_range(int, 0), default=defaults.max_per_ip,
                        help="open chat connections allowed from one address, and new ones "
                             "(twice this at once, then one a second); 0 = no cap "
                             "(default: %(default)s)")
    group.add_argument("--max-connections", type=in_range(int, 0), default=None,
                        help="open connections in all; past it a newcomer gets HTTP 503; "
                             "0 = no cap (default: the limit on open files, less a reserve "
                             "for the database, Redis and logs)")
    group.add_argument("--header-timeout", type=in_range(float, 1),
                        default=defaults.header_timeout,
                        help="seconds a client has to send a request's headers, and as long "
                             "for its body, before it is disconnected (default: %(default)s)")
    group.add_argument("--idle-timeout", type=in_range(float, 1), default=defaults.idle_timeout,
                        help="seconds a kept-alive connection may wait for its next request "
                             "(default: %(default)s)")
    group.add_argument("--max-unsent", type=in_range(int, 1), default=defaults.max_unsent,
                        help="bytes waiting for one client before it counts as not reading "
                             "and is dropped (default: %(default)s)")
    group.add_argument("--ping-interval", type=in_range(float, 0), default=defaults.ping_interval,
                        help="seconds between pings that find dead peers; 0 = no pings "
                             "(default: %(default)s)")
    group.add_argument("--ping-timeout", type=in_range(float, 0), default=None,
                        help="seconds to wait for a pong before dropping a peer "
                             "(default: the ping interval)")


SIZE_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def size(text: str) -> int:
    """Return the bytes in a size given as 10MB, 500mb, 64KB or a plain number of bytes."""
    match = re.fullmatch(r"(\d{1,15})\s*([kmg]?)b?", text.strip().lower())
    if match is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size: use e.g. 10MB, 512KB or "
                                         "a number of bytes")
    return int(match[1]) * SIZE_UNITS[match[2]]


def add_upload_options(parser: argparse.ArgumentParser, defaults: Settings) -> None:
    """Add the options of the files people share (docs/protocol.md, "Files")."""
    group = parser.add_argument_group("files (uploads)")
    group.add_argument("--max-upload", type=size, default=defaults.max_upload, metavar="SIZE",
                        help="the largest file one may share, e.g. 10MB (MB = 1024 KB); "
                             "0 turns uploads off (default: 10MB)")
    group.add_argument("--uploads-per-minute", type=in_range(int, 0),
                        default=defaults.uploads_per_minute,
                        help="uploads one address may make a minute; 0 = no limit "
                             "(default: %(default)s)")
    group.add_argument("--upload-quota", type=size, default=defaults.upload_quota,
                        metavar="SIZE", help="what all kept files may take in all, e.g. 2GB "
                                             "(default: 500MB)")
    group.add_argument("--upload-dir", metavar="DIR", default=defaults.upload_dir,
                        help="where files are kept (default: uploads/ beside --db; a "
                             "temporary directory with --db :memory:). With --redis, give "
                             "every node the same directory (a shared disk), or the nodes "
                             "take no uploads")


def add_cluster_options(parser: argparse.ArgumentParser, defaults: Settings) -> None:
    """Add the options of a cluster of processes and hosts sharing one Redis."""
    group = parser.add_argument_group("a cluster (several processes or hosts)")
    group.add_argument("--redis", metavar="URL", default=os.environ.get("CHAT_REDIS") or None,
                        help="join a cluster through this Redis, e.g. redis://127.0.0.1:6379/0: "
                             "history, nicknames and messages are shared by every process "
                             "and host that points at it (default: the CHAT_REDIS environment "
                             "variable, which ps does not show others, else none: this "
                             "process alone)")
    group.add_argument("--processes", type=in_range(int, 0), default=defaults.processes,
                        help="worker processes sharing the port, 0 = one per core; more "
                             "than 1 needs --redis (default: %(default)s)")
    group.add_argument("--history-cap", type=in_range(int, 1), default=defaults.history_cap,
                        help="messages kept per room, in SQLite or Redis; the oldest go "
                             "first (default: %(default)s)")
    group.add_argument("--presence-timeout", type=in_range(float, 1),
                        default=defaults.presence_timeout,
                        help="seconds after which the people of a node that stopped "
                             "answering leave the cluster's lists (default: %(default)s)")


def parse_settings(argv: list[str]) -> Settings:
    """Turn the command line into Settings."""
    defaults = Settings()
    parser = argparse.ArgumentParser(
        description="A chat room for the browser. Start it, then share one of the URLs it prints."
    )
    for add_options in (add_room_options, add_host_options, add_limit_options,
                        add_upload_options, add_cluster_options):
        add_options(parser, defaults)
    args = parser.parse_args(argv)
    if args.ping_timeout is not None and args.ping_timeout > args.ping_interval:
        parser.error("--ping-timeout cannot be longer than --ping-interval")
    processes = args.processes or os.cpu_count() or 1
    if processes > 1 and not args.redis:
        parser.error(f"--processes {args.processes} needs --redis: without a broker each "
                     "process would be a chat room of its own, and people would miss "
                     "each other's messages")
    return Settings(
        host=args.host, port=args.port, max_text=args.max_text, history=args.history,
        db=args.db, rate=args.rate, burst=args.burst, max_per_ip=args.max_per_ip,
        max_connections=args.max_connections, header_timeout=args.header_timeout,
        idle_timeout=args.idle_timeout,
        max_unsent=args.max_unsent, ping_interval=args.ping_interval,
        ping_timeout=args.ping_timeout, allow_origins=tuple(args.allow_origin), debug=args.debug,
        invite_urls=tuple(share_urls(args.host, args.port, lan_addresses())),
        redis=args.redis, processes=processes, history_cap=args.history_cap,
        presence_timeout=args.presence_timeout, host_key=args.host_key,
        new_host_key=args.new_host_key, max_upload=args.max_upload,
        uploads_per_minute=args.uploads_per_minute, upload_quota=args.upload_quota,
        upload_dir=args.upload_dir,
    )


def listen(settings: Settings) -> list[socket.socket]:
    """Bind the port before anything else, or exit with one line saying why not."""
    try:
        return tornado.netutil.bind_sockets(settings.port, settings.host)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            sys.exit(f"Port {settings.port} is already in use (another chat server?); "
                     f"pick another with --port {settings.port + 1}.")
        sys.exit(f"Cannot listen on {settings.host}:{settings.port}: {error.strerror}.")


async def serve(settings: Settings, sockets: list[socket.socket]) -> None:
    """Serve on the bound sockets until SIGINT or SIGTERM."""
    try:  # after binding, so a second server on a busy port never opens the database
        app = make_app(settings)
        await app.settings["hub"].start()
    except (StoreError, Unavailable) as error:
        sys.exit(str(error))
    server = make_server(app, settings)  # counts, caps and times out every connection
    server.add_sockets(sockets)
    stop = asyncio.Event()  # before printing: a stop right after the URLs still stores the key
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    if settings.processes == 1:  # with workers, the parent printed it once for all
        print(banner(settings.host, settings.port, settings.invite_urls), flush=True)
        urls = every_url(settings.host, settings.port, settings.invite_urls)
        print(host_links(urls, app.settings["hub"].host_key), flush=True)
    await stop.wait()
    log.info("Shutting down: closing every connection")
    server.stop()
    await server.close_all_connections()  # page loads and unfinished requests
    await shutdown(app)


def settle_key_for_workers(settings: Settings) -> Settings:
    """Settle the host key in Redis once, so every worker starts with the same one."""
    from chat.cluster import settle_host_key  # only a cluster needs redis-py loaded

    assert settings.redis is not None  # --processes > 1 needs --redis
    try:
        key = settle_host_key(settings.redis, settings.host_key, settings.new_host_key)
    except Unavailable as error:
        sys.exit(str(error))
    return dataclasses.replace(settings, host_key=key, new_host_key=False)


def main(argv: list[str]) -> None:
    """Run the server with the options in `argv`: one process, or several workers."""
    settings = parse_settings(argv)
    tune_collector()
    logging.basicConfig(
        level=logging.DEBUG if settings.debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(process)d %(name)s: %(message)s"
        if settings.processes > 1 else "%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    raise_file_limit()  # before the workers fork, so each inherits it
    sockets = listen(settings)
    if settings.redis:
        from chat.cluster import check_redis  # only a cluster needs redis-py loaded

        try:
            check_redis(settings.redis)
        except Unavailable as error:
            sys.exit(str(error))
    if settings.processes > 1:
        settings = settle_key_for_workers(settings)
        print(banner(settings.host, settings.port, settings.invite_urls), flush=True)
        urls = every_url(settings.host, settings.port, settings.invite_urls)
        print(host_links(urls, settings.host_key or ""), flush=True)
        fork_workers(settings.processes)  # returns in each worker; the parent waits
    asyncio.run(serve(settings, sockets))


if __name__ == "__main__":
    main(sys.argv[1:])

#!/usr/bin/env python3
"""The console's resident memory: idle, after a scripted session of use, and after it ends.

Usage: memory-bench.py BASE_URL PID USER PASSWORD

BASE_URL is a `gatehouse serve --demo` (release build) started on a fresh data directory; PID
its process. The session: five rounds of 20 sign-ins (each an argon2 hash of 19 MiB), every
page rendered five times, 300 API reads, a plan of the demo's access policy applied, the audit
log exported.
Prints one line per measurement and a verdict against the goal (64 MB after the session).
"""

import http.cookiejar
import json
import sys
import time
import urllib.error
import urllib.request

GOAL_MB = 64
ROUNDS = 5


def rss_mb(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field}")


def main():
    base, pid, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def call(path, body=None, method=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(base + path, data, method=method or ("POST" if data else "GET"),
                                         headers={"Content-Type": "application/json", "Origin": base})
        try:
            with opener.open(request, timeout=120) as response:
                return response.read()
        except urllib.error.HTTPError as error:
            return error.read()

    # The demo settles: stores read, the policy applied, the first samples taken.
    time.sleep(45)
    idle = rss_mb(pid)
    print(f"idle (45 s after start): {idle:.1f} MB")

    started = time.time()
    for _ in range(ROUNDS):
        session(call)
    used = rss_mb(pid)
    peak = rss_mb(pid, "VmHWM")
    print(f"after the session ({ROUNDS} rounds, {time.time() - started:.0f} s): {used:.1f} MB (peak {peak:.1f} MB)")
    time.sleep(60)
    after = rss_mb(pid)
    print(f"a minute after it ended: {after:.1f} MB")
    verdict = "met" if max(used, after) <= GOAL_MB else "NOT met"
    print(f"goal: at most {GOAL_MB} MB after the session: {verdict}")


def session(call):
    """One round: sign-ins, pages, API reads, a plan applied, an export."""
    user, password = sys.argv[3], sys.argv[4]
    for _ in range(20):
        call("/api/v1/session", {"username": user, "password": password})
    pages = ["/", "/inventory", "/certificates", "/agents", "/access-policy", "/proxy-map",
             "/audit", "/settings", "/settings/users", "/settings/webhooks"]
    for _ in range(5):
        for page in pages:
            call(page)
    nodes = json.loads(call("/api/v1/nodes"))
    reads = ["/api/v1/nodes", "/api/v1/clusters", "/api/v1/alerts", "/api/v1/connected-agents",
             "/api/v1/audit?limit=100", "/api/v1/proxymaps", "/api/v1/openapi.json"]
    reads += [f"/api/v1/nodes/{n['id']}/stores" for n in nodes]
    for i in range(300):
        call(reads[i % len(reads)])
    clusters = json.loads(call("/api/v1/clusters"))
    finesse = next(c for c in clusters if c["name"] == "Demo: Finesse")
    made = json.loads(call(f"/api/v1/clusters/{finesse['id']}/access-policy/plan", {}))
    plan = made.get("id")
    for _ in range(120):
        view = json.loads(call(f"/api/v1/plans/{plan}"))
        if view.get("state") in ("ready", "failed", "cancelled"):
            break
        time.sleep(0.5)
    call(f"/api/v1/plans/{plan}/apply", {})
    for _ in range(240):
        view = json.loads(call(f"/api/v1/plans/{plan}"))
        if view.get("state") in ("applied", "failed", "cancelled"):
            break
        time.sleep(0.5)
    call("/api/v1/audit?format=csv")
    print(f"  round: plan {plan} {view.get('state')}")


if __name__ == "__main__":
    main()

"""Every server function of the pages (`/api/fn/...`, not in the OpenAPI document) sent bad
input, as a signed-in admin: its arguments (named as in app/src/server_fns) each set to a NUL, a
negative or huge number, a word, nothing, invalid UTF-8 or 5,000 characters, all of them or all
but the last, by POST and by GET. None may answer a server error (5xx but 503).

    python3 fuzz-server-fns.py BASE_URL USER PASSWORD
"""

import http.cookiejar
import json
import pathlib
import re
import sys
import urllib.error
import urllib.request

base, user, password = sys.argv[1:4]
sources = pathlib.Path(__file__).resolve().parents[2] / "app" / "src" / "server_fns"
text = "".join(p.read_text() for p in sorted(sources.glob("*.rs")))
declared = re.finditer(r'endpoint = "([a-z_]+)"\)\]\s*pub async fn \w+\(([^)]*)\)', text, re.S)
functions = {m[1]: [a.split(":")[0].strip() for a in m[2].split(",") if ":" in a] for m in declared}
# Not sent: these end the session or change the fuzzer's own account.
functions = {k: v for k, v in functions.items()
             if k not in ("login", "logout", "setup", "change_password", "user_update", "user_delete")}
if len(functions) < 50:
    sys.exit(f"found only {len(functions)} server functions in {sources}: has their form changed?")

opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))


def send(method, path, body=None, content_type="application/x-www-form-urlencoded"):
    request = urllib.request.Request(
        base + path, data=None if body is None else body.encode(), method=method,
        headers={"Origin": base, "Content-Type": content_type, "Sec-Fetch-Site": "same-origin"})
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.read(300)
    except urllib.error.HTTPError as error:
        return error.code, error.read(300)


def sign_in():
    status, _ = send("POST", "/api/v1/session", json.dumps({"username": user, "password": password}),
                     "application/json")
    if status != 200:
        sys.exit(f"signing in answered {status}")


sign_in()
values = ["%00", "-1", "99999999999999999999", "abc", "", "%FF%FE", "a" * 5000]
failures, count = [], 0
for name, arguments in sorted(functions.items()):
    for value in values:
        for fields in (arguments, arguments[:-1]):
            query = "&".join(f"{field}={value}" for field in fields) or f"x={value}"
            for method in ("POST", "GET"):
                path = f"/api/fn/{name}" + (f"?{query}" if method == "GET" else "")
                body = query if method == "POST" else None
                status, answer = send(method, path, body)
                if status == 401:  # a function signed the session out: sign in again, once
                    sign_in()
                    status, answer = send(method, path, body)
                count += 1
                if status >= 500 and status != 503:
                    failures.append(f"{method} /api/fn/{name} {query[:60]!r}: {status} {answer[:200]!r}")
print(f"{count} requests to {len(functions)} server functions, {len(failures)} server errors")
for failure in failures:
    print(failure)
sys.exit(1 if failures else 0)

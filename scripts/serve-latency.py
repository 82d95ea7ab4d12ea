#!/usr/bin/env python3
"""Edit-to-reload latency of `casebook serve`.

usage: scripts/serve-latency.py SITE_DIR [--edits 10] [--binary target/release/casebook]

Starts `casebook serve` on SITE_DIR, then edits the body of one case study
N times. For each edit it measures the time from the write to the moment the
reload poll answers with a new generation (the browser would reload then), and
checks that the page then shows the new text. Prints every figure and the median.
"""
import argparse
import glob
import http.client
import os
import re
import statistics
import subprocess
import sys
import threading
import time


def get(port, path, timeout=60):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    conn.request("GET", path)
    resp = conn.getresponse()
    body = resp.read().decode("utf-8", "replace")
    conn.close()
    return resp.status, body


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("site")
    ap.add_argument("--edits", type=int, default=10)
    ap.add_argument("--binary", default="target/release/casebook")
    a = ap.parse_args()
    proc = subprocess.Popen([a.binary, "serve", "--root", a.site, "--port", "0"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        line = proc.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)(/\S*)", line)
        if not m:
            sys.exit(f"serve did not print its URL: {line!r}")
        port, base = int(m.group(1)), m.group(2)
        study = sorted(glob.glob(os.path.join(a.site, "content", "case-studies", "*.md")))[0]
        slug = os.path.splitext(os.path.basename(study))[0]
        page = f"{base}case-studies/{slug}/"
        original = open(study, encoding="utf-8").read()
        times = []
        for n in range(a.edits):
            status, body = get(port, page)
            gen = int(re.search(r"var g=(\d+)", body).group(1))
            result = {}

            def poll():
                result["reply"] = get(port, f"{base}__casebook/poll?since={gen}")
                result["t"] = time.perf_counter()

            t = threading.Thread(target=poll)
            t.start()
            time.sleep(0.3)  # the poll is waiting, as a browser's would be
            marker = f"Latency probe edit {n} {time.time_ns()}."
            start = time.perf_counter()
            with open(study, "w", encoding="utf-8") as f:
                f.write(original + "\n" + marker + "\n")
            t.join()
            elapsed = (result["t"] - start) * 1000
            _, body = get(port, page)
            if marker not in body:
                sys.exit(f"edit {n}: the page does not show the edit after reload")
            times.append(elapsed)
            print(f"edit {n + 1}: {elapsed:.0f} ms")
            time.sleep(0.2)
        print(f"median edit-to-reload latency over {len(times)} edits: {statistics.median(times):.0f} ms "
              f"(min {min(times):.0f}, max {max(times):.0f})")
        with open(study, "w", encoding="utf-8") as f:
            f.write(original)
    finally:
        proc.terminate()


if __name__ == "__main__":
    main()

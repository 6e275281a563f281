"""One new file after a no-op, two binaries interleaved (a throwaway driver, kept as the record of the method).

Expects: /tmp/m1/migrations (1,000 files `SELECT n;`, hashed) applied to database m1 on 127.0.0.1:5432, and the
two binaries at the paths in `bins` (`BASE` and `HEAD` in the environment override them; `NEW` the new file's version,
which must sort after every file of /tmp/m1/migrations). Each round deletes the new file's row and table, runs a no-op over the 1,000
files (which leaves the memo), then times the apply of a copy of the directory with one more file.
"""
import subprocess, time, random, os, statistics, shutil
bins = [os.environ.get("BASE", "/tmp/strata-base"), os.environ.get("HEAD", "/tmp/strata-head3")]
new = os.environ.get("NEW", "20240000099999")
url = "postgres://postgres@127.0.0.1:5432/m1?sslmode=disable"
src = "/tmp/m1/migrations"
envs = {}
for i, b in enumerate(bins):
    d = f"/tmp/incr{i}"
    shutil.rmtree(d, ignore_errors=True); shutil.copytree(src, d)
    with open(f"{d}/{new}_new.sql", "w") as f: f.write("CREATE TABLE incr_new (id int);\n")
    subprocess.run([b, "migrate", "hash", "--dir", f"file://{d}"], check=True)
    e = dict(os.environ); e["STRATA_CACHE_DIR"] = f"/tmp/abcache{i}"; envs[b] = (e, d)
def reset():
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-d", "m1", "-c",
        "DELETE FROM atlas_schema_revisions.atlas_schema_revisions WHERE version = '" + new + "'; DROP TABLE IF EXISTS incr_new"], check=True)
res = {b: [] for b in bins}
for r in range(int(os.environ.get("ROUNDS", "40"))):
    order = bins[:]; random.shuffle(order)
    for b in order:
        e, d = envs[b]
        reset()
        # a no-op over the 1,000-file directory first, as a re-run before the new file would have left its memo
        subprocess.run([b, "migrate", "apply", "--dir", "file:///tmp/m1/migrations", "--url", url], env=e, stdout=subprocess.DEVNULL, check=True)
        t = time.perf_counter()
        out = subprocess.run([b, "migrate", "apply", "--dir", f"file://{d}", "--url", url], env=e, capture_output=True, text=True, check=True)
        res[b].append((time.perf_counter() - t) * 1000)
        assert new in out.stdout, out.stdout
reset()
base = res[bins[0]]
for b in bins:
    print(f"{b}: median {statistics.median(res[b]):.2f} ms, paired ratio vs base {statistics.median([x/y for x,y in zip(res[b], base)]):.3f}")

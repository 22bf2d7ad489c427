#!/usr/bin/python3
"""Loads pickles written by the TypeScript codec with CPython's own pickle, under stand-in classes that live at
VeighNa's module paths, and checks every value against the typed JSON the test wrote beside each pickle.

    check_unpickle.py check CASES_DIR [--english]
        For each NAME.pkl / NAME.json in CASES_DIR: unpickle, convert to typed JSON, compare; then write
        CPython's own re-pickle (protocol 4) as NAME.cpython.pkl. --english gives the enums vnpy's English
        values (a wheel install under LANG=en): pickles by member name must load all the same.
    check_unpickle.py repickle SRC_DIR OUT_DIR PROTOCOL
        Re-pickles every SRC_DIR/*.pkl with the given protocol into OUT_DIR.

Prints one JSON object: {"ok": bool, "checked": n, "failures": [...], "python": version}.
Needs nothing beyond the standard library (no zmq, no vnpy).
"""
import base64
import datetime
import enum
import json
import math
import os
import pickle
import sys
import zoneinfo
from typing import Any

# ---- the stand-in VeighNa package (test/python/vnpy), shared with the service interop tests ------------------

STANDINS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python")


def install_modules(english: bool) -> None:
    """Puts the stand-ins at VeighNa's module paths; `english` gives the enums vnpy's English values."""
    if english:
        os.environ["VNPY_LANGUAGE"] = "en"  # read once, at import, as vnpy's gettext is
    sys.path.insert(0, STANDINS)
    import vnpy.event.engine  # noqa: F401  (pickle finds the classes by module path)
    import vnpy.trader.constant  # noqa: F401
    import vnpy.trader.object  # noqa: F401


# ---- typed JSON (the fixtures' format) ------------------------------------------------------------------------

def typed_float(value: float) -> Any:
    if math.isnan(value):
        return {"$float": "nan"}
    if math.isinf(value):
        return {"$float": "inf" if value > 0 else "-inf"}
    if value == 0 and math.copysign(1.0, value) < 0:
        return {"$float": "-0.0"}
    return {"$float": value}


def typed_tz(tz: Any) -> Any:
    if isinstance(tz, zoneinfo.ZoneInfo):
        return {"class": "zoneinfo.ZoneInfo", "key": tz.key}
    if isinstance(tz, datetime.timezone):
        offset = tz.utcoffset(None)
        return {"class": "datetime.timezone", "offset_seconds": offset.total_seconds(), "name": tz.tzname(None)}
    raise TypeError(f"unexpected tzinfo {tz!r}")


def to_typed(value: Any) -> Any:
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, enum.Enum):
        return {"$enum": f"{type(value).__module__}.{type(value).__qualname__}", "name": value.name, "value": value.value}
    if isinstance(value, int):
        return {"$int": str(value)}
    if isinstance(value, float):
        return typed_float(value)
    if isinstance(value, (bytes, bytearray)):
        return {"$bytes": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, list):
        return [to_typed(v) for v in value]
    if isinstance(value, tuple):
        return {"$tuple": [to_typed(v) for v in value]}
    if isinstance(value, dict):
        return {"$dict": [[to_typed(k), to_typed(v)] for k, v in value.items()]}
    if isinstance(value, (set, frozenset)):
        return {"$set": sorted((to_typed(v) for v in value), key=json.dumps)}
    if isinstance(value, datetime.timedelta):
        return {"$timedelta": [value.days, value.seconds, value.microseconds]}
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            return {"$datetime": value.isoformat(), "tzinfo": None, "fold": value.fold}
        epoch = value - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
        return {
            "$datetime": value.isoformat(),
            "tzinfo": typed_tz(value.tzinfo),
            "fold": value.fold,
            "utcoffset_seconds": value.utcoffset().total_seconds(),
            "epoch_us": str((epoch.days * 86400 + epoch.seconds) * 1_000_000 + epoch.microseconds),
        }
    cls = type(value)
    if cls.__module__ in ("vnpy.trader.object", "vnpy.event.engine"):
        return {"$object": f"{cls.__module__}.{cls.__qualname__}", "state": {k: to_typed(v) for k, v in vars(value).items()}}
    raise TypeError(f"unexpected {cls.__module__}.{cls.__qualname__}")


def normalise(value: Any, english: bool) -> Any:
    """JSON numbers compare by value; sets by content; in English mode, enum values are the local ones."""
    if isinstance(value, list):
        return [normalise(v, english) for v in value]
    if isinstance(value, dict):
        if "$set" in value:
            return {"$set": sorted((normalise(v, english) for v in value["$set"]), key=json.dumps)}
        if "$enum" in value and english:
            return {"$enum": value["$enum"], "name": value["name"]}
        return {k: normalise(v, english) for k, v in value.items()}
    return value


def first_difference(a: Any, b: Any, path: str = "$") -> str:
    if type(a) != type(b) and not (isinstance(a, (int, float)) and isinstance(b, (int, float))):
        return f"{path}: {json.dumps(a, ensure_ascii=False)[:200]} != {json.dumps(b, ensure_ascii=False)[:200]}"
    if isinstance(a, dict):
        for k in list(a) + [k for k in b if k not in a]:
            if k not in a or k not in b:
                return f"{path}.{k}: missing on one side"
            d = first_difference(a[k], b[k], f"{path}.{k}")
            if d:
                return d
        return ""
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: length {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_difference(x, y, f"{path}[{i}]")
            if d:
                return d
        return ""
    return "" if a == b else f"{path}: {a!r} != {b!r}"


def check(cases_dir: str, english: bool) -> dict:
    failures = []
    checked = 0
    for file in sorted(os.listdir(cases_dir)):
        if not file.endswith(".pkl") or file.endswith(".cpython.pkl"):
            continue
        name = file[:-4]
        with open(os.path.join(cases_dir, file), "rb") as f:
            data = f.read()
        with open(os.path.join(cases_dir, name + ".json"), encoding="utf-8") as f:
            expected = json.load(f)
        checked += 1
        try:
            value = pickle.loads(data)
            actual = to_typed(value)
        except Exception as exc:  # report every case, not just the first failure
            failures.append({"case": name, "error": f"{type(exc).__name__}: {exc}"})
            continue
        diff = first_difference(normalise(expected, english), normalise(actual, english))
        if diff:
            failures.append({"case": name, "error": diff})
            continue
        with open(os.path.join(cases_dir, name + ".cpython.pkl"), "wb") as f:
            f.write(pickle.dumps(value, 4))
    return {"ok": not failures and checked > 0, "checked": checked, "failures": failures}


def repickle(src_dir: str, out_dir: str, protocol: int) -> dict:
    failures = []
    written = 0
    for file in sorted(os.listdir(src_dir)):
        if not file.endswith(".pkl"):
            continue
        try:
            with open(os.path.join(src_dir, file), "rb") as f:
                value = pickle.loads(f.read())
            with open(os.path.join(out_dir, file), "wb") as f:
                f.write(pickle.dumps(value, protocol))
            written += 1
        except Exception as exc:
            failures.append({"case": file, "error": f"{type(exc).__name__}: {exc}"})
    return {"ok": not failures and written > 0, "checked": written, "failures": failures}


def main(argv: list) -> int:
    english = "--english" in argv
    args = [a for a in argv if a != "--english"]
    install_modules(english)
    if args[:1] == ["check"] and len(args) == 2:
        result = check(args[1], english)
    elif args[:1] == ["repickle"] and len(args) == 4:
        result = repickle(args[1], args[2], int(args[3]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    result["python"] = sys.version.split()[0]
    print(json.dumps(result, ensure_ascii=False))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

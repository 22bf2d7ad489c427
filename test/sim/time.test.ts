import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CHINA_TZ, DateTime } from "../../src/kernel/index.js";
import { chinaDateTime, dayIndexOf, dayStartMs, instantOf, isoString, ManualClock, weekStartMs } from "../../src/sim/time.js";

describe("the venue's calendar", () => {
  test("instants become Asia/Shanghai datetimes to the microsecond, and back", () => {
    for (const ms of [Date.UTC(2025, 2, 3, 1, 2, 3, 456) + 0.789, Date.UTC(2024, 1, 29, 15, 59, 59, 999) + 0.999, Date.UTC(2030, 0, 1)]) {
      const dt = chinaDateTime(ms);
      assert.equal(dt.tzinfo, CHINA_TZ);
      assert.equal(dt.epochMicros(), Math.round(ms * 1000));
      assert.deepEqual(dt, DateTime.fromEpochMicros(Math.round(ms * 1000), CHINA_TZ));
    }
    assert.equal(chinaDateTime(Date.UTC(2024, 11, 31, 16)).toString(), "2025-01-01 00:00:00+08:00");
  });

  test("the fast ISO writer agrees with DateTime.toISOString", () => {
    for (let i = 0; i < 500; i++) {
      const dt = chinaDateTime(Date.UTC(2025, 0, 1) + i * 7_919_123.457);
      assert.equal(isoString(dt), dt.toISOString());
    }
    const utc = DateTime.parse("2025-01-01T00:00:00Z");
    assert.equal(isoString(utc), "2025-01-01T00:00:00+00:00");
  });

  test("days and weeks start at Shanghai midnight, weeks on Monday", () => {
    const wednesdayEvening = Date.UTC(2025, 2, 12, 12); // 20:00 in Shanghai
    assert.equal(chinaDateTime(dayStartMs(dayIndexOf(wednesdayEvening))).toString(), "2025-03-12 00:00:00+08:00");
    assert.equal(chinaDateTime(weekStartMs(wednesdayEvening)).toString(), "2025-03-10 00:00:00+08:00");
    assert.equal(dayIndexOf(Date.UTC(2025, 2, 12, 15, 59)) + 1, dayIndexOf(Date.UTC(2025, 2, 12, 16)));
  });

  test("naive datetimes are read as Shanghai wall time", () => {
    assert.equal(instantOf(DateTime.parse("2025-03-03 10:00")), Date.UTC(2025, 2, 3, 2));
    assert.equal(instantOf(DateTime.parse("2025-03-03T10:00:00+00:00")), Date.UTC(2025, 2, 3, 10));
  });

  test("a manual clock moves only when told", () => {
    const clock = new ManualClock(1000);
    assert.equal(clock.now(), 1000);
    assert.equal(clock.advance(500), 1500);
    clock.set(42);
    assert.equal(clock.now(), 42);
  });
});

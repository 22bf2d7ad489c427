import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CHINA_TZ, DateTime, fixedOffset, sameZone, UTC, zoneInfo } from "../../src/kernel/index.js";

const NEW_YORK = zoneInfo("America/New_York");

describe("DateTime", () => {
  test("ISO text round-trips with microseconds and offsets, as Python writes it", () => {
    for (const text of [
      "2024-12-31T09:30:15.123456+08:00",
      "2024-12-31T09:30:15+08:00",
      "2024-12-31T01:30:15.000001+00:00",
      "2024-06-30T23:59:59.999999-04:30",
      "2024-02-29T00:00:00",
    ]) {
      assert.equal(DateTime.parse(text).toISOString(), text);
    }
    assert.equal(DateTime.parse("2024-12-31 09:30:15.5Z").toISOString(), "2024-12-31T09:30:15.500000+00:00");
    assert.equal(String(DateTime.parse("2024-12-31T09:30:15.5+08:00")), "2024-12-31 09:30:15.500000+08:00");
  });

  test("parsing with a zone converts the instant into that zone", () => {
    const shanghai = DateTime.parse("2024-12-31T01:30:00Z", CHINA_TZ);
    assert.equal(shanghai.toISOString(), "2024-12-31T09:30:00+08:00");
    assert.ok(sameZone(shanghai.tzinfo, CHINA_TZ));
    const naiveAsShanghai = DateTime.parse("2024-12-31 09:30", CHINA_TZ);
    assert.equal(naiveAsShanghai.epochMicros(), Date.UTC(2024, 11, 31, 1, 30) * 1000);
  });

  test("the calendar date of a day number matches Date's, from year 1 to 9999 (leap days, centuries, before 1970)", () => {
    // Every day boundary of the 400-year cycle around 2000, then random instants across the whole range.
    const instants: number[] = [];
    for (let day = 10_957 - 73_000; day <= 10_957 + 73_100; day++) instants.push(day * 86_400_000, day * 86_400_000 - 1);
    let seed = 7;
    for (let i = 0; i < 20_000; i++) {
      seed = (seed * 48_271) % 2_147_483_647;
      instants.push(-62_135_596_800_000 + (seed / 2_147_483_647) * (253_402_300_799_000 + 62_135_596_800_000));
    }
    for (const ms of instants) {
      const date = new Date(Math.floor(ms));
      const dt = DateTime.fromWallMicros(Math.floor(ms) * 1000, UTC);
      const expected = [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()];
      assert.deepEqual([dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second], expected, `at ${ms}`);
    }
  });

  test("epoch microseconds round-trip in every kind of zone", () => {
    const micros = Date.UTC(2025, 2, 3, 1, 2, 3) * 1000 + 456_789;
    for (const zone of [UTC, CHINA_TZ, NEW_YORK, fixedOffset(-150, "X")]) {
      const dt = DateTime.fromEpochMicros(micros, zone);
      assert.equal(dt.epochMicros(), micros);
      assert.equal(dt.microsecond, 789 + 456_000);
    }
    assert.equal(DateTime.fromEpochMicros(micros, CHINA_TZ).hour, 9);
    assert.equal(DateTime.fromEpochMicros(micros, NEW_YORK).hour, 20, "EST: UTC-5 in March before the switch");
  });

  test("offsets switch at the exact minute of a DST transition, cached or not", () => {
    // 2024-03-10 07:00Z: New York goes from -05:00 to -04:00.
    const transition = Date.UTC(2024, 2, 10, 7, 0) * 1000;
    for (let pass = 0; pass < 2; pass++) {
      for (let minute = -90; minute <= 90; minute++) {
        const instant = transition + minute * 60_000_000;
        const offset = DateTime.fromEpochMicros(instant, NEW_YORK).utcOffsetMicros();
        assert.equal(offset, (minute < 0 ? -5 : -4) * 3_600_000_000, `minute ${minute}, pass ${pass}`);
      }
    }
  });

  test("fold picks the earlier or later of a repeated wall time, as PEP 495 says", () => {
    const first = new DateTime({ year: 2024, month: 11, day: 3, hour: 1, minute: 30, fold: 0 }, NEW_YORK);
    const second = new DateTime({ year: 2024, month: 11, day: 3, hour: 1, minute: 30, fold: 1 }, NEW_YORK);
    assert.equal(first.toISOString(), "2024-11-03T01:30:00-04:00");
    assert.equal(second.toISOString(), "2024-11-03T01:30:00-05:00");
    assert.equal(second.epochMicros() - first.epochMicros(), 3_600_000_000);
    assert.equal(first.equals(second), false);
  });

  test("an instant in the second pass through a repeated hour converts to fold 1 and back", () => {
    const firstPass = Date.UTC(2024, 10, 3, 5, 30) * 1000;
    const secondPass = Date.UTC(2024, 10, 3, 6, 30) * 1000;
    const a = DateTime.fromEpochMicros(firstPass, NEW_YORK);
    const b = DateTime.fromEpochMicros(secondPass, NEW_YORK);
    assert.deepEqual([a.hour, a.minute, a.fold, b.hour, b.minute, b.fold], [1, 30, 0, 1, 30, 1]);
    assert.equal(a.epochMicros(), firstPass);
    assert.equal(b.epochMicros(), secondPass);
    assert.equal(b.toISOString(), "2024-11-03T01:30:00-05:00");
  });

  test("a wall time in a spring-forward gap takes the offset before the gap with fold 0", () => {
    const gap = new DateTime({ year: 2024, month: 3, day: 10, hour: 2, minute: 30 }, NEW_YORK);
    assert.equal(gap.utcOffsetMicros(), -5 * 3_600_000_000);
  });

  test("naive datetimes have no offset and compare by wall time", () => {
    const naive = DateTime.parse("2025-03-03T10:00:00");
    assert.equal(naive.isAware, false);
    assert.equal(naive.utcOffsetMicros(), null);
    assert.ok(naive.compare(DateTime.parse("2025-03-03T10:00:00.000001")) < 0);
    assert.equal(DateTime.now(null).isAware, false);
    assert.ok(sameZone(DateTime.now().tzinfo, CHINA_TZ));
  });

  test("arithmetic crosses a DST change by the instant, and withZone keeps the wall time", () => {
    const before = new DateTime({ year: 2024, month: 3, day: 10, hour: 1, minute: 30 }, NEW_YORK);
    assert.equal(before.plusSeconds(3600).toISOString(), "2024-03-10T03:30:00-04:00");
    const wall = before.withZone(CHINA_TZ);
    assert.deepEqual([wall.hour, wall.minute], [1, 30]);
    assert.equal(before.toZone(UTC).toISOString(), "2024-03-10T06:30:00+00:00");
  });

  test("invalid fields and text are refused", () => {
    assert.throws(() => new DateTime({ year: 2023, month: 2, day: 29 }), RangeError);
    assert.throws(() => new DateTime({ year: 2024, month: 1, day: 1, microsecond: 1_000_000 }), RangeError);
    assert.throws(() => DateTime.parse("yesterday"), RangeError);
  });

  test("a Date converts both ways to the millisecond", () => {
    const date = new Date(Date.UTC(2025, 0, 2, 3, 4, 5, 678));
    assert.equal(DateTime.fromDate(date).toDate().getTime(), date.getTime());
    assert.equal(JSON.stringify({ t: DateTime.fromDate(date, UTC) }), '{"t":"2025-01-02T03:04:05.678000+00:00"}');
  });
});

import { describe, expect, it } from "vitest";
import { SpeedMeter, formatSpeed, overall, percent, secondsLeft } from "./progress";

describe("transfer speed and time left", () => {
  it("measures speed over the recent window only", () => {
    const meter = new SpeedMeter(5000);
    expect(meter.speed()).toBeNull();
    meter.sample(0, 0);
    meter.sample(1_000_000, 100); // too soon to say
    expect(meter.speed()).toBeNull();
    meter.sample(10_000_000, 1000);
    expect(meter.speed()).toBe(10_000_000);
    // Much later, slower: the old fast start no longer counts.
    meter.sample(11_000_000, 11_000);
    meter.sample(12_000_000, 16_000);
    meter.sample(13_000_000, 17_000);
    expect(meter.speed()).toBeCloseTo(2_000_000 / 6, 0);
  });

  it("says how long the rest takes at that speed", () => {
    expect(secondsLeft(30_000_000, 10_000_000)).toBe(3);
    expect(secondsLeft(0, null)).toBe(0);
    expect(secondsLeft(10, null)).toBeNull();
    expect(secondsLeft(10, 0)).toBeNull();
  });

  it("adds up files, never past their size", () => {
    const all = overall([
      { total: 100, done: 50 },
      { total: 300, done: 400 }, // a retried part may report past the end
    ]);
    expect(all).toEqual({ total: 400, done: 350 });
    expect(percent(all)).toBe(87.5);
    expect(percent({ total: 0, done: 0 })).toBe(100);
  });

  it("formats speed", () => {
    expect(formatSpeed(null, String)).toBe("—");
    expect(formatSpeed(2048, (n) => `${n / 1024} KB`)).toBe("2 KB/s");
  });
});

// The page's pure formatting module, run directly in Deno (it touches no DOM).
import assert from "node:assert/strict";
import {
  change,
  duration,
  expiryCountdown,
  fromLocalInput,
  relative,
  successRate,
  toLocalInput,
  totalTokens,
} from "../../static/assets/format.js";

Deno.test("admin page formatting", async (t) => {
  await t.step("duration() shows two units, a countdown three so it ticks each second", () => {
    assert.equal(duration(0), "0 s");
    assert.equal(duration(65_000), "1 min");
    assert.equal(duration(65_000, true), "1 min 05 s");
    assert.equal(duration(7 * 3_600_000 + 59 * 60_000 + 12_000, true), "7 h 59 min 12 s");
    assert.equal(duration(3 * 86_400_000 + 5 * 3_600_000 + 7_000, true), "3 d 5 h");
    assert.equal(duration(-90_000), "1 min");
  });

  await t.step("expiryCountdown() counts down, says expired, or that it never expires", () => {
    const now = 1_000_000_000_000;
    assert.equal(expiryCountdown(now + 3_723_000, now), "in 1 h 2 min 03 s");
    assert.equal(expiryCountdown(now - 120_000, now), "expired 2 min ago");
    assert.equal(expiryCountdown(null, now), "does not expire");
    assert.equal(expiryCountdown(undefined, now), "does not expire");
  });

  await t.step("relative() reads both ways", () => {
    const now = 1_000_000_000_000;
    assert.equal(relative(now + 300_000, now), "in 5 min");
    assert.equal(relative(now - 300_000, now), "5 min ago");
    assert.equal(relative(undefined, now), "—");
  });

  await t.step("change() compares with the previous window", () => {
    assert.deepEqual(change(120, 100), { text: "+20 %", direction: 1 });
    assert.deepEqual(change(50, 100), { text: "−50 %", direction: -1 });
    assert.deepEqual(change(0, 0), { text: "±0", direction: 0 });
    assert.deepEqual(change(3, 0), { text: "new", direction: 1 });
    assert.equal(change(undefined, 3), null);
  });

  await t.step("successRate() and totalTokens() follow the usage counters", () => {
    assert.equal(successRate({ requests: 4, status2xx: 3 }), 0.75);
    assert.equal(successRate({ requests: 0, status2xx: 0 }), undefined);
    assert.equal(
      totalTokens({ inputTokens: 1, outputTokens: 2, cacheReadTokens: 3, cacheWriteTokens: 4 }),
      10,
    );
  });

  await t.step("datetime-local values round-trip to the minute", () => {
    const at = new Date(2030, 0, 2, 3, 4).getTime();
    assert.equal(toLocalInput(at), "2030-01-02T03:04");
    assert.equal(fromLocalInput("2030-01-02T03:04"), at);
    assert.equal(fromLocalInput(""), undefined);
    assert.equal(fromLocalInput("nonsense"), undefined);
  });
});

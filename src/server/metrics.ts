// GET /metrics in Prometheus text format (version 0.0.4): request counts by route and status, tokens,
// cost per price table, CPU seconds, joules, litres, and the scheduler's queue and batch.
// Names follow Prometheus conventions: r1_ prefix, base units, _total for counters.

import type { Meter } from "../metering/meter.js";
import type { Scheduler } from "./scheduler.js";

export class Metrics {
  private requests = new Map<string, number>();
  private latencySum = new Map<string, number>();
  private latencyCount = new Map<string, number>();
  readonly started = Date.now();

  observe(route: string, status: number, seconds: number): void {
    const k = `route="${route}",status="${status}"`;
    this.requests.set(k, (this.requests.get(k) ?? 0) + 1);
    const r = `route="${route}"`;
    this.latencySum.set(r, (this.latencySum.get(r) ?? 0) + seconds);
    this.latencyCount.set(r, (this.latencyCount.get(r) ?? 0) + 1);
  }

  render(meter: Meter, scheduler?: Scheduler, extra: string[] = []): string {
    const out: string[] = [];
    const metric = (name: string, type: string, help: string, rows: [string, number][]) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, v] of rows) out.push(`${name}${labels ? `{${labels}}` : ""} ${fmt(v)}`);
    };
    metric("r1_http_requests_total", "counter", "HTTP requests by route and status.", [...this.requests]);
    metric("r1_http_request_duration_seconds_sum", "counter", "Total seconds spent answering, by route.", [
      ...this.latencySum,
    ]);
    metric("r1_http_request_duration_seconds_count", "counter", "Requests timed, by route.", [...this.latencyCount]);
    const t = meter.totals;
    metric("r1_prompt_tokens_total", "counter", "Prompt tokens served.", [["", t.promptTokens]]);
    metric("r1_prompt_cache_hit_tokens_total", "counter", "Prompt tokens served from the prefix cache.", [
      ["", t.cacheHitTokens],
    ]);
    metric("r1_completion_tokens_total", "counter", "Tokens generated (reasoning and answer).", [
      ["", t.completionTokens],
    ]);
    metric("r1_reasoning_tokens_total", "counter", "Tokens generated inside the reasoning.", [["", t.reasoningTokens]]);
    metric(
      "r1_cost_usd_total",
      "counter",
      "What the tokens served would cost on each price table, in USD.",
      [...t.costUsd].map(([k, v]) => [`table="${k}"`, v]),
    );
    metric("r1_cpu_seconds_total", "counter", "CPU seconds spent in model steps (process.cpuUsage).", [
      ["", t.cpuSeconds],
    ]);
    metric("r1_energy_joules_total", "counter", `Energy estimate (method: ${meter.energy.method}).`, [["", t.joules]]);
    metric("r1_water_litres_total", "counter", "Water estimate from energy x litres per kWh.", [["", t.litres]]);
    if (scheduler) {
      const s = scheduler.stats;
      metric("r1_queue_waiting", "gauge", "Requests waiting for a batch slot.", [["", scheduler.queued]]);
      metric("r1_batch_running", "gauge", "Sequences in the running batch.", [["", scheduler.active]]);
      metric("r1_scheduler_steps_total", "counter", "Batched forward steps run.", [["", s.steps]]);
      metric("r1_scheduler_batched_tokens_total", "counter", "Tokens run through forward steps.", [
        ["", s.batchedTokens],
      ]);
      metric("r1_requests_rejected_total", "counter", "Requests refused with 429 (queue full).", [["", s.rejected]]);
      metric("r1_requests_cancelled_total", "counter", "Requests cancelled (client disconnected).", [["", s.aborted]]);
      metric("r1_prefix_cache_entries", "gauge", "KV caches kept for prefix reuse.", [["", scheduler.prefix.size]]);
      metric("r1_prefix_cache_bytes", "gauge", "Bytes held by the prefix cache.", [["", scheduler.prefix.usedBytes]]);
    }
    metric("r1_uptime_seconds", "gauge", "Seconds since the server started.", [
      ["", (Date.now() - this.started) / 1000],
    ]);
    return `${[...out, ...extra].join("\n")}\n`;
  }
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toPrecision(12).replace(/\.?0+$/, "");
}

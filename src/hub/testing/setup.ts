// Shared test scaffolding: a fresh temporary cache, a fake Hub, and hub options pinned so the developer's own
// environment (HF_TOKEN, HF_HUB_OFFLINE, HF_ENDPOINT, HF_HUB_CACHE) can never leak into a test.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PullEvent } from "../progress.js";
import { type FakeHub, startFakeHub } from "./fake_hub.js";

export interface TestBed {
  hub: FakeHub;
  cacheDir: string;
  events: PullEvent[];
  /** Options for pull/resolveModel/listCached/...: this cache, this hub, no token, online, quiet. */
  opts: {
    cacheDir: string;
    endpoint: string;
    token: string;
    offline: boolean;
    onEvent: (e: PullEvent) => void;
    retryDelayMs: number;
  };
  done(): Promise<void>;
}

export async function testBed(): Promise<TestBed> {
  const hub = await startFakeHub();
  const cacheDir = await mkdtemp(join(tmpdir(), "r1ts-hub-"));
  const events: PullEvent[] = [];
  return {
    hub,
    cacheDir,
    events,
    opts: { cacheDir, endpoint: hub.url, token: "", offline: false, onEvent: (e) => events.push(e), retryDelayMs: 0 },
    async done() {
      await hub.close();
      await rm(cacheDir, { recursive: true, force: true });
    },
  };
}
